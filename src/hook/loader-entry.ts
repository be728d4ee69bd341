// Bundle entry of the loader the installed hook script calls (see cached-loader.ts).
export { HOOK_BUILTINS, runCached } from './cached-loader';
