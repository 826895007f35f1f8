/**
 * The Istio release meshgw installs (the default of aws.istioVersion) and that `meshgw doctor` expects istioctl
 * to match. Kept in its own tiny module so the config defaults and doctor can import it without loading the
 * installer.
 *
 * Why 1.31: Istio supports a minor release until 6 weeks after the N+2 minor ships
 * (istio.io/latest/docs/releases/supported-releases). 1.31.0 shipped on 2026-08-31 and 1.29 reached end of life
 * on 2026-10-15 (the 1.29.9 announcement), so 1.28 was already out of support and 1.30 ends 6 weeks after 1.32.0;
 * 1.31 is the line still supported on 2026-11-30 with the most time left. 1.31.1 is the newest 1.31 patch whose
 * announcement we could confirm (istio.io/latest/news/releases/1.31.x/announcing-1.31.1); bump it here when a
 * newer patch is out — nothing else names the version.
 */
export const ISTIO_VERSION = '1.31.1';
