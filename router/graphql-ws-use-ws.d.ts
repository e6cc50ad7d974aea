/**
 * Types for the 'graphql-ws/use/ws' entry. tsconfig's `moduleResolution: "node"` ignores package
 * "exports", so TypeScript cannot find this subpath's typings by itself; Node resolves the module
 * at run time through "exports" as usual. Unneeded once tsconfig moves to "node16"/"bundler".
 */
declare module 'graphql-ws/use/ws' {
  export * from 'graphql-ws/dist/use/ws';
}
