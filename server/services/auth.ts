import type { Knex } from 'knex';
import { transaction } from '../db/transaction.js';
import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { Actor, Role } from './actor.js';
import { recordAudit } from '../store/audit.js';
import { hashPassword, verifyPassword, decoyHash } from './passwords.js';
import { LoginThrottle } from './login-throttle.js';
import type { SharedState } from './shared-state.js';
import { AppError, fieldError, forbidden, unauthorized } from '../errors.js';
import {
  countOwners,
  findUserByEmail,
  getAccount,
  insertUser,
  raiseTokenVersion,
  updateUser,
  type AccountRow,
  type UserRow,
} from '../store/users.js';

export type TokenKind = 'session' | 'api';

const claimsSchema = z.object({
  sub: z.string().regex(/^\d+$/),
  role: z.enum(['owner', 'manager', 'affiliate']),
  typ: z.enum(['session', 'api']),
  // A token that never expires is refused (SPEC §13).
  exp: z.number(),
  // The account's token version when the token was issued; tokens from before versions were
  // carried count as version 0 and end with the first raise.
  ver: z.number().int().nonnegative().default(0),
  // Sessions carry an id: the CSRF token is bound to it.
  sid: z.string().min(16).max(64).optional(),
});

export interface AuthUser extends Actor {
  userId: number;
  role: Role;
  email: string;
  tokenVersion: number;
  /** Set when the request came with a named API key rather than a token or session. */
  apiKeyId?: number | null;
}

/** A verified token: its account and, for a session, the session's id. */
export interface Verified {
  user: AuthUser;
  sessionId: string | null;
}

export const SESSION_TTL_SECONDS = 12 * 3600;
export const API_TOKEN_TTL_SECONDS = 24 * 3600;
/** The longest API token: staff may take a year, affiliates a month. */
export const MAX_API_TOKEN_HOURS = { staff: 24 * 365, affiliate: 24 * 30 } as const;

/** Why an account may not be signed in (an affiliate that is declined, archived or gone), or null. */
function inactiveReason(row: AccountRow): string | null {
  if (row.role !== 'affiliate') return null;
  if (row.affiliate_status === null) return 'its affiliate no longer exists';
  if (row.affiliate_archived_at !== null) return 'its affiliate is archived';
  if (row.affiliate_status === 'declined') return 'its affiliate is declined';
  if (row.email_verified !== undefined && !Number(row.email_verified))
    return 'its e-mail address is not confirmed yet; follow the link in the mail we sent you (or use “Forgot your password?” for a new link)';
  return null;
}

/** Accounts, passwords and the JWTs that carry sessions and API tokens (HS256 only). */
export class AuthService {
  readonly throttle: LoginThrottle;
  /** A KeyObject once: jsonwebtoken otherwise tries to parse a string secret as a private key on every call. */
  private readonly key: KeyObject;

  constructor(
    private readonly db: Knex,
    secret: string,
    private readonly clock: () => number = Date.now,
    /** The password check (tests count its calls). */
    private readonly checkPassword: (password: string, hash: string) => Promise<boolean> = verifyPassword,
    shared?: SharedState,
  ) {
    this.throttle = new LoginThrottle(clock, shared);
    this.key = createSecretKey(Buffer.from(secret));
  }

  async needsSetup(): Promise<boolean> {
    return (await countOwners(this.db)) === 0;
  }

  /** Creates the owner account; refused once an owner exists (the setup page is first-run only). */
  async createOwner(email: string, password: string, name = ''): Promise<AuthUser> {
    const hash = await hashPassword(password);
    const id = await transaction(this.db, async (trx) => {
      if ((await countOwners(trx)) > 0) throw new AppError('conflict', 'Affix is already set up; sign in instead');
      const now = this.clock();
      const newId = await insertUser(trx, {
        email,
        name,
        password_hash: hash,
        role: 'owner',
        affiliate_id: null,
        created_at: now,
        updated_at: now,
      });
      await recordAudit(
        trx,
        { userId: newId, label: email, role: 'owner', affiliateId: null },
        'user.ownerCreated',
        'user',
        newId,
      );
      return newId;
    });
    return this.userById(id) as Promise<AuthUser>;
  }

  async createUser(email: string, password: string, role: 'manager', actor: Actor, name = ''): Promise<AuthUser> {
    if (await findUserByEmail(this.db, email)) throw fieldError('email', 'an account with this email already exists');
    const hash = await hashPassword(password);
    const now = this.clock();
    const id = await transaction(this.db, async (trx) => {
      const newId = await insertUser(trx, {
        email,
        name,
        password_hash: hash,
        role,
        affiliate_id: null,
        created_at: now,
        updated_at: now,
      });
      await recordAudit(trx, actor, 'user.created', 'user', newId, { email, role });
      return newId;
    });
    return this.userById(id) as Promise<AuthUser>;
  }

  /**
   * Checks a password. Throws 429 while the email or IP is throttled, 401 for a wrong
   * email or password (one message for both, so accounts are not revealed), 403 for an account
   * that may not sign in (a declined or archived affiliate).
   */
  async login(email: string, password: string, ip: string): Promise<AuthUser> {
    const emailKey = `email:${email.trim().toLowerCase()}`;
    const ipKey = `ip:${ip}`;
    // Counted before the password is checked: parallel guesses cannot outrun the brake.
    const wait = await this.throttle.reserve([emailKey, ipKey]);
    if (wait > 0) {
      throw new AppError(
        'too_many_requests',
        `Too many failed sign-ins; try again in ${Math.ceil(wait / 1000)} seconds`,
        {
          retryAfterSeconds: Math.ceil(wait / 1000),
        },
      );
    }
    const row = await findUserByEmail(this.db, email);
    const ok = await this.checkPassword(password, row?.password_hash ?? (await decoyHash()));
    if (!row || !ok) throw unauthorized('Wrong email or password');
    // The address keeps its earlier failures: a successful sign-in of one's own account must not
    // reset the brake on guesses at others.
    await this.throttle.forget(emailKey);
    await this.throttle.release(ipKey);
    const account = await getAccount(this.db, row.id);
    const inactive = account ? inactiveReason(account) : 'it no longer exists';
    if (inactive) throw forbidden(`This account cannot sign in: ${inactive}`);
    await updateUser(this.db, row.id, { last_login_at: this.clock() });
    return toAuthUser(account as AccountRow);
  }

  /** The lifetime of a new API token: `hours` if allowed for the account (affiliates: 30 days at most). */
  apiTokenTtlSeconds(user: AuthUser, hours: number | undefined): number {
    if (hours === undefined) return API_TOKEN_TTL_SECONDS;
    const max = user.role === 'affiliate' ? MAX_API_TOKEN_HOURS.affiliate : MAX_API_TOKEN_HOURS.staff;
    if (hours > max)
      throw fieldError(
        'expiresInHours',
        `must be at most ${max} (${user.role === 'affiliate' ? 'affiliate tokens last 30 days at most' : 'one year'})`,
      );
    return hours * 3600;
  }

  sign(
    user: AuthUser,
    kind: TokenKind,
    ttlSeconds = kind === 'session' ? SESSION_TTL_SECONDS : API_TOKEN_TTL_SECONDS,
  ): string {
    const claims = {
      role: user.role,
      typ: kind,
      ver: user.tokenVersion,
      ...(kind === 'session' ? { sid: randomBytes(18).toString('base64url') } : {}),
    };
    return jwt.sign(claims, this.key, {
      algorithm: 'HS256',
      subject: String(user.userId),
      expiresIn: ttlSeconds,
      issuer: 'affix',
    });
  }

  /**
   * Verifies a token (HS256 pinned, expiry required, issuer) and that its account still exists
   * with that role and token version and may be signed in. One primary-key read, as before.
   */
  async verify(token: string, kind: TokenKind): Promise<Verified | null> {
    let payload: unknown;
    try {
      payload = jwt.verify(token, this.key, {
        algorithms: ['HS256'],
        issuer: 'affix',
        clockTimestamp: Math.floor(this.clock() / 1000),
      });
    } catch {
      return null;
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success || claims.data.typ !== kind) return null;
    if (kind === 'session' && !claims.data.sid) return null;
    const row = await getAccount(this.db, Number(claims.data.sub));
    if (!row || row.role !== claims.data.role || row.token_version !== claims.data.ver || inactiveReason(row))
      return null;
    return { user: toAuthUser(row), sessionId: claims.data.sid ?? null };
  }

  async userById(id: number): Promise<AuthUser | null> {
    const row = await getAccount(this.db, id);
    return row ? toAuthUser(row) : null;
  }

  /** Sets a new password; every earlier session and token of the account ends. */
  async changePassword(userId: number, password: string): Promise<void> {
    const hash = await hashPassword(password);
    await transaction(this.db, async (trx) => {
      await updateUser(trx, userId, { password_hash: hash, updated_at: this.clock() });
      await raiseTokenVersion(trx, userId, this.clock());
    });
  }

  /**
   * The CSRF token of a session (`session:<sid>`) or of a signed-out browser (`visitor:<cookie>`):
   * an HMAC, so a cookie someone else planted cannot be repeated as its own token.
   */
  csrfToken(binding: string): string {
    return createHmac('sha256', this.key).update(`csrf\0${binding}`).digest('base64url');
  }

  /** "Sign out everywhere": ends every session and token of the account at once. */
  async signOutEverywhere(user: AuthUser): Promise<void> {
    if (user.apiKeyId) throw forbidden('An API key cannot sign its account out; revoke the key instead');
    await transaction(this.db, async (trx) => {
      await raiseTokenVersion(trx, user.userId, this.clock());
      await recordAudit(trx, user, 'user.signedOutEverywhere', 'user', user.userId);
    });
  }
}

const toAuthUser = (row: UserRow): AuthUser => ({
  userId: row.id,
  label: row.email,
  email: row.email,
  role: row.role,
  affiliateId: row.affiliate_id,
  tokenVersion: Number(row.token_version),
});
