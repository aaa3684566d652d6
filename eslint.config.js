// ESLint flat config: see tools/eslint.config.js (kept beside the tools that it needs).
export { default } from './tools/eslint.config.js';
