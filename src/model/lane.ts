/** Flatten and cancel go through the priority lane so slow entries can never starve them. */
export type Lane = 'priority' | 'normal';
