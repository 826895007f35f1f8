import { MeshgwError } from '../errors.js';

/** A GitHub repository as the OIDC token's `sub` claim names it. */
export interface GithubRepository {
  owner: string;
  name: string;
  /** Immutable owner id, present when the repository uses GitHub's immutable subject claims. */
  ownerId?: string;
  repositoryId?: string;
  /** "owner/name" or "owner@id/name@id": the text between "repo:" and the next ":" in `sub`. */
  subject: string;
}

// GitHub's own rules: an owner is 1-39 letters, digits or single hyphens, not at either end;
// a repository name is 1-100 letters, digits, '.', '_' or '-', and not "." or "..".
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const NAME = /^[A-Za-z0-9._-]{1,100}$/;
const ID = /^[0-9]{1,20}$/;

const HINT =
  'Give the repository as owner/name, as in https://github.com/owner/name (for example octo-org/meshgw). ' +
  'Repositories created after 2026-06-18 sign tokens with immutable ids: then give owner@OWNER_ID/name@REPO_ID.';

/** Parses "owner/name" (or "owner@id/name@id"), naming what is wrong when it is not one. */
export function parseGithubRepository(text: string): GithubRepository {
  const value = text.trim();
  const fail = (problem: string): never => {
    throw new MeshgwError('USAGE', `repository "${text}": ${problem}`, HINT);
  };
  if (value === '') fail('is empty');
  if (/^(https?:|git@)/.test(value)) fail('is a URL; expected owner/name');
  const parts = value.split('/');
  if (parts.length !== 2) fail(parts.length === 1 ? 'has no "/" between owner and name' : 'has more than one "/"; expected owner/name');
  const [ownerPart, namePart] = parts;
  const [owner, ownerId, ...ownerRest] = ownerPart.split('@');
  const [name, repositoryId, ...nameRest] = namePart.split('@');
  if (ownerRest.length > 0 || nameRest.length > 0) fail('has more than one "@" in a part');
  if (!OWNER.test(owner)) fail(`owner "${owner}" is not a GitHub account name (letters, digits and single inner hyphens, at most 39)`);
  if (!NAME.test(name) || name === '.' || name === '..') fail(`name "${name}" is not a GitHub repository name (letters, digits, ".", "_" or "-", at most 100)`);
  if ((ownerId === undefined) !== (repositoryId === undefined)) fail('gives an immutable id for only one of owner and name');
  if (ownerId !== undefined && !ID.test(ownerId)) fail(`owner id "${ownerId}" is not a number`);
  if (repositoryId !== undefined && !ID.test(repositoryId)) fail(`repository id "${repositoryId}" is not a number`);
  return { owner, name, ownerId, repositoryId, subject: value };
}

/** The `sub` claim of a job in `environment` of this repository. */
export function environmentSubject(repo: GithubRepository, environment: string): string {
  return `repo:${repo.subject}:environment:${environment}`;
}
