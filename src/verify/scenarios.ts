/** The scenarios `meshgw verify` runs, in the order `verify all` runs them. */
export const SCENARIOS = ['throttle', 'auth', 'mtls', 'resilience'] as const;
export type Scenario = (typeof SCENARIOS)[number];
