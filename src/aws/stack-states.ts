/** CloudFormation stack statuses, grouped the way meshgw acts on them. */

/** Statuses after which the stack changes no more on its own. */
export function isTerminal(status: string): boolean {
  return !status.endsWith('_IN_PROGRESS');
}

/** Terminal statuses that mean the requested operation succeeded. */
export function isSuccess(status: string, operation: 'CREATE' | 'UPDATE' | 'DELETE'): boolean {
  if (operation === 'DELETE') return status === 'DELETE_COMPLETE';
  return status === 'CREATE_COMPLETE' || status === 'UPDATE_COMPLETE' || status === 'IMPORT_COMPLETE';
}

/**
 * A stack whose first creation failed and rolled back: it holds no resources and cannot be updated,
 * only deleted (and created again).
 */
export function isRolledBackCreate(status: string): boolean {
  return status === 'ROLLBACK_COMPLETE' || status === 'ROLLBACK_FAILED';
}

/** A stack created by a CREATE change set that was never executed: treated as absent. */
export function isReviewOnly(status: string): boolean {
  return status === 'REVIEW_IN_PROGRESS';
}

/** States in which a new change set cannot be applied until someone intervenes. */
export function needsIntervention(status: string): boolean {
  return status === 'DELETE_FAILED' || status === 'UPDATE_ROLLBACK_FAILED' || status === 'IMPORT_ROLLBACK_FAILED';
}
