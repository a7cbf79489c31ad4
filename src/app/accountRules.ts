// The shapes of account input, shared by the domain and the HTTP schemas.

export const USERNAME = { min: 3, max: 32, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ } as const;
export const PASSWORD = { min: 8, max: 256 } as const;
export const NAME = { min: 1, max: 100 } as const;
export const EMAIL = { max: 254 } as const;
