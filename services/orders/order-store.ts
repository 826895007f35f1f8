/** An order as the API shows it; money in integer cents of `currency`. */
export interface Order {
  id: string;
  userId: string;
  productId: string;
  quantity: number;
  unitPrice: number;
  total: number;
  currency: string;
  createdAt: string;
}

/** Where orders live; in memory for now, behind this interface so a database can replace it. */
export interface OrderStore {
  insert(order: Order): void;
  findById(id: string): Order | undefined;
}

export function createMemoryOrderStore(): OrderStore {
  const byId = new Map<string, Order>();
  return {
    insert: (order) => void byId.set(order.id, order),
    findById: (id) => byId.get(id),
  };
}
