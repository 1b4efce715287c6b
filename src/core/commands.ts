// Transitional: the command contract moved to src/contract/commands.ts. Only src/sim/ (being moved by another
// change) still imports this file; switch it to the contract and delete this file.
export { commandSchema } from '../contract/commands.js';
