import type { SimOrder } from './matching.js';

/** Whether an order still works on the book or may yet fill: NEW or PARTIALLY_FILLED. */
export function isOpen(order: Pick<SimOrder, 'status'>): boolean {
  return order.status === 'NEW' || order.status === 'PARTIALLY_FILLED';
}
