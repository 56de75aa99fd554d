import type { Knex } from 'knex';
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { Actor, Role } from './actor.js';
import { recordAudit } from '../store/audit.js';
import { hashPassword, verifyPassword, decoyHash } from './passwords.js';
import { LoginThrottle } from './login-throttle.js';
import { AppError, fieldError, unauthorized } from '../errors.js';
import { countOwners, findUserByEmail, getUserRow, insertUser, updateUser, type UserRow } from '../store/users.js';

export type TokenKind = 'session' | 'api';

const claimsSchema = z.object({
  sub: z.string().regex(/^\d+$/),
  role: z.enum(['owner', 'manager', 'affiliate']),
  typ: z.enum(['session', 'api']),
});

export interface AuthUser extends Actor {
  userId: number;
  role: Role;
  email: string;
}

export const SESSION_TTL_SECONDS = 12 * 3600;
export const API_TOKEN_TTL_SECONDS = 24 * 3600;

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
  ) {
    this.throttle = new LoginThrottle(clock);
    this.key = createSecretKey(Buffer.from(secret));
  }

  async needsSetup(): Promise<boolean> {
    return (await countOwners(this.db)) === 0;
  }

  /** Creates the owner account; refused once an owner exists (the setup page is first-run only). */
  async createOwner(email: string, password: string, name = ''): Promise<AuthUser> {
    const hash = await hashPassword(password);
    const id = await this.db.transaction(async (trx) => {
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
    const id = await this.db.transaction(async (trx) => {
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
   * email or password (one message for both, so accounts are not revealed).
   */
  async login(email: string, password: string, ip: string): Promise<AuthUser> {
    const emailKey = `email:${email.trim().toLowerCase()}`;
    const ipKey = `ip:${ip}`;
    // Counted before the password is checked: parallel guesses cannot outrun the brake.
    const wait = this.throttle.reserve([emailKey, ipKey]);
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
    this.throttle.forget(emailKey);
    this.throttle.release(ipKey);
    await updateUser(this.db, row.id, { last_login_at: this.clock() });
    return toAuthUser(row);
  }

  sign(
    user: AuthUser,
    kind: TokenKind,
    ttlSeconds = kind === 'session' ? SESSION_TTL_SECONDS : API_TOKEN_TTL_SECONDS,
  ): string {
    return jwt.sign({ role: user.role, typ: kind }, this.key, {
      algorithm: 'HS256',
      subject: String(user.userId),
      expiresIn: ttlSeconds,
      issuer: 'affix',
    });
  }

  /** Verifies a token (HS256 pinned, expiry, issuer) and that its account still exists with that role. */
  async verify(token: string, kind: TokenKind): Promise<AuthUser | null> {
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
    const user = await this.userById(Number(claims.data.sub));
    return user && user.role === claims.data.role ? user : null;
  }

  async userById(id: number): Promise<AuthUser | null> {
    const row = await getUserRow(this.db, id);
    return row ? toAuthUser(row) : null;
  }

  async changePassword(userId: number, password: string): Promise<void> {
    await updateUser(this.db, userId, { password_hash: await hashPassword(password), updated_at: this.clock() });
  }
}

const toAuthUser = (row: UserRow): AuthUser => ({
  userId: row.id,
  label: row.email,
  email: row.email,
  role: row.role,
  affiliateId: row.affiliate_id,
});
