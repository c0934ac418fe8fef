// oidc-provider ships no types for its grant handlers; these are the two modules the refresh grace
// layer wraps (the handler signature is `(provider, helpers, ctx)`).
declare module 'oidc-provider/lib/actions/grants/refresh_token.js' {
  export const handler: (provider: unknown, helpers: unknown, ctx: unknown) => Promise<void>;
  export const parameters: Set<string>;
}
declare module 'oidc-provider/lib/actions/grants/client_credentials.js' {
  export const handler: (provider: unknown, helpers: unknown, ctx: unknown) => Promise<void>;
  export const parameters: Set<string>;
}
declare module 'oidc-provider/lib/helpers/grants.js' {
  const helpers: Record<string, (...args: unknown[]) => unknown>;
  export = helpers;
}
