/**
 * The one way into @peculiar/x509 in this repo: it loads the Reflect metadata polyfill that
 * tsyringe (its DI container) insists on and points the library at Node's WebCrypto. Import
 * `x509` from here, never from '@peculiar/x509' directly, or the first import crashes.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };
