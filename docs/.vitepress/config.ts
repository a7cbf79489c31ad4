import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitepress';
import { folderItems } from './sidebar.js';

const docsDir = fileURLToPath(new URL('../', import.meta.url));

const CONCEPTS = [
  'streams-and-versions.md',
  'global-order.md',
  'subscriptions-and-checkpoints.md',
  'projections.md',
  'deciders-and-aggregates.md',
  'workflows.md',
  'personal-data.md',
  'delivery-guarantees.md',
];

const GUIDES = [
  'mongodb-production.md',
  'kafka.md',
  'relay-operations.md',
  'schema-evolution.md',
  'testing.md',
  'observability.md',
  'migrating-from-emmett.md',
  'migrating-from-mess.md',
];

const REFERENCE = [
  { text: 'API (TypeDoc)', link: '/reference/api/' },
  { text: 'Command line', link: '/reference/cli' },
  { text: 'App configuration', link: '/reference/configuration' },
  { text: 'Relay configuration', link: '/reference/relay-config' },
  { text: 'HTTP API', link: '/reference/http-api' },
];

const concepts = folderItems(docsDir, 'concepts', CONCEPTS);
const guides = folderItems(docsDir, 'guides', GUIDES);

export default defineConfig({
  title: 'Eventloom',
  description:
    'Event sourcing, CQRS and change-data-capture for MongoDB and embedded SQLite, in TypeScript',
  lang: 'en-US',
  cleanUrls: true,
  // Dashboards kept next to the docs, not pages of the site.
  srcExclude: ['grafana/**'],
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: '/logo.svg' }]],
  // A missing page, a broken anchor or a dead link fails the build (test/docs checks the rest).
  ignoreDeadLinks: false,
  vite: {
    // The local search index covers the whole API reference (about 1.5 MB); it is fetched
    // only when the search box first opens, so its size does not slow the pages down.
    build: { chunkSizeWarningLimit: 2048 },
  },
  themeConfig: {
    logo: '/logo.svg',
    search: { provider: 'local' },
    nav: [
      { text: 'Getting started', link: '/getting-started/library' },
      ...(concepts[0] ? [{ text: 'Concepts', link: concepts[0].link }] : []),
      ...(guides[0] ? [{ text: 'Guides', link: guides[0].link }] : []),
      { text: 'Reference', link: '/reference/' },
    ],
    sidebar: [
      {
        text: 'Getting started',
        items: [
          { text: 'The library in five minutes', link: '/getting-started/library' },
          { text: 'The reference app', link: '/getting-started/reference-app' },
          { text: 'The relay', link: '/getting-started/relay' },
        ],
      },
      {
        text: 'Concepts',
        items: [
          ...concepts,
          { text: 'MongoDB global order (design note)', link: '/mongodb-global-order' },
        ],
      },
      { text: 'Guides', items: guides },
      { text: 'Reference', link: '/reference/', items: REFERENCE },
    ],
    outline: { level: [2, 3] },
  },
});
