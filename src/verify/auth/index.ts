export { authChecks, type AuthOptions } from './checks.js';
