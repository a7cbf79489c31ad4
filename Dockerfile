# The app and its workers from this repository (docker-compose.yml runs one image five ways).
FROM node:22-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
ENTRYPOINT ["node", "bin/eventloom.js"]
CMD ["start"]
