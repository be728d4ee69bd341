// Bundle entry of the loader the installed hook script calls (see cached-loader.ts).
export { runCached } from './cached-loader';
