import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { transaction } from '../db/transaction.js';
import type { Actor } from './actor.js';
import type { MailService } from './mail.js';
import { hashPassword } from './passwords.js';
import { recordAudit } from '../store/audit.js';
import {
  findAccountToken,
  insertAccountToken,
  newestUnusedToken,
  useAccountToken,
  useAllAccountTokens,
  type TokenPurpose,
} from '../store/account-tokens.js';
import {
  countOwners,
  deleteUser,
  findUser,
  findUserByAffiliate,
  findUserByEmail,
  findUserEmail,
  invitedUserIds,
  lockUser,
  insertUser,
  listUsers,
  raiseTokenVersion,
  updateUser,
  type User,
  type UserRow,
} from '../store/users.js';
import { AppError, conflict, fieldError, forbidden, notFound } from '../errors.js';

/*
 * Account e-mail flows of SPEC §13: password reset (staff and affiliates), e-mail verification of
 * portal sign-ups, staff invitations, and the mails an affiliate's sign-up and review cause.
 * Tokens are 256 random bits, stored as their SHA-256 hash, single use, with an expiry.
 */

export const RESET_VALID_MS = 60 * 60 * 1000;
export const VERIFY_VALID_MS = 7 * 24 * 3600 * 1000;
export const INVITE_VALID_MS = 7 * 24 * 3600 * 1000;
/** At most one reset mail per account in this time (more requests still answer 202). */
export const RESET_REPEAT_MS = 60 * 1000;
/** Every reset request takes at least this long, whether the address exists or not. */
export const RESET_MIN_MS = 250;

const VALID_MS: Record<TokenPurpose, number> = {
  reset: RESET_VALID_MS,
  verify: VERIFY_VALID_MS,
  invite: INVITE_VALID_MS,
};

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** Why a token was refused, in words for the person holding the link. */
export class TokenRefused extends AppError {
  constructor(message: string) {
    super('bad_request', message);
  }
}

export interface StaffUser extends User {
  /** Invited and not yet accepted (no password set). */
  invited: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class AccountService {
  constructor(
    private readonly db: Knex,
    private readonly mail: MailService,
    private readonly clock: () => number = Date.now,
    /** The floor of a reset request's time (tests keep the default; 0 turns it off). */
    private readonly resetMinMs = RESET_MIN_MS,
  ) {}

  private async issue(trx: Knex, userId: number, purpose: TokenPurpose): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const now = this.clock();
    await insertAccountToken(trx, {
      userId,
      purpose,
      tokenHash: hashToken(token),
      expiresAt: now + VALID_MS[purpose],
      now,
    });
    return token;
  }

  private resetUrl(row: Pick<UserRow, 'role'>, token: string, invite = false): string {
    const base = row.role === 'affiliate' ? '/portal/reset-password' : '/reset-password';
    return `${this.mail.origin()}${base}?token=${encodeURIComponent(token)}${invite ? '&invite=1' : ''}`;
  }

  // ---- Password reset ---------------------------------------------------------------------------

  /**
   * Queues a reset mail when the address belongs to an account. The caller answers 202 whatever
   * happened; the call takes at least `resetMinMs` either way, so time does not tell accounts apart.
   */
  async requestPasswordReset(email: string): Promise<void> {
    const started = performance.now();
    try {
      const row = await findUserByEmail(this.db, email);
      if (row) {
        await transaction(this.db, async (trx) => {
          const last = await newestUnusedToken(trx, row.id, 'reset');
          if (last !== null && this.clock() - last < RESET_REPEAT_MS) return;
          const token = await this.issue(trx, row.id, 'reset');
          await this.mail.queue(trx, 'account.password_reset', row.email, {
            account: { name: row.name, email: row.email, role: row.role },
            resetUrl: this.resetUrl(row, token),
            validMinutes: RESET_VALID_MS / 60_000,
          });
        });
      }
    } finally {
      const left = this.resetMinMs - (performance.now() - started);
      if (left > 0) await sleep(left);
    }
  }

  /**
   * Sets a new password with a reset (or invitation) token: the token is used up, every other
   * reset token of the account too, and every earlier session and API token of the account ends.
   * Following the link also proves the address, so the account counts as verified.
   */
  async confirmPasswordReset(token: string, password: string): Promise<{ role: UserRow['role']; email: string }> {
    const found = await this.usableToken(token, ['reset', 'invite']);
    const hash = await hashPassword(password);
    return transaction(this.db, async (trx) => {
      const now = this.clock();
      if (!(await useAccountToken(trx, found.id, now))) throw this.refusedUsed();
      const user = await findUser(trx, found.userId);
      if (!user) throw new TokenRefused('This link belongs to an account that no longer exists');
      await updateUser(trx, user.id, { password_hash: hash, email_verified: true, updated_at: now });
      await raiseTokenVersion(trx, user.id, now);
      await useAllAccountTokens(trx, user.id, ['reset', 'invite'], now);
      await recordAudit(
        trx,
        { userId: user.id, label: user.email, role: user.role, affiliateId: user.affiliate_id },
        found.purpose === 'invite' ? 'user.invitationAccepted' : 'user.passwordReset',
        'user',
        user.id,
        {},
        now,
      );
      return { role: user.role, email: user.email };
    });
  }

  /** Is this a reset or invitation link that can still be used? (The reset page asks before showing the form.) */
  async checkResetToken(token: string): Promise<{ purpose: TokenPurpose; email: string }> {
    const found = await this.usableToken(token, ['reset', 'invite']);
    const email = await findUserEmail(this.db, found.userId);
    return { purpose: found.purpose, email: email ?? '' };
  }

  private refusedUsed() {
    return new TokenRefused('This link has already been used. Ask for a new one if you still need it.');
  }

  private async usableToken(token: string, purposes: TokenPurpose[]) {
    const found = /^[A-Za-z0-9_-]{20,100}$/.test(token) ? await findAccountToken(this.db, hashToken(token)) : null;
    if (!found || !purposes.includes(found.purpose))
      throw new TokenRefused('This link is not valid. Copy the whole link from the mail, or ask for a new one.');
    if (found.usedAt !== null) throw this.refusedUsed();
    if (found.expiresAt <= this.clock())
      throw new TokenRefused(
        found.purpose === 'reset'
          ? 'This reset link has expired (it is valid for one hour). Ask for a new one.'
          : 'This link has expired. Ask for a new one.',
      );
    return found;
  }

  // ---- Sign-up and verification -------------------------------------------------------------------

  /**
   * The mails of a portal sign-up, in the sign-up's transaction: the verification link (the
   * account stays unverified until it is followed, unless no mail can be sent), the
   * affiliate's confirmation and the owners' alert.
   */
  async onSignup(trx: Knex, affiliateId: number, status: string): Promise<{ verificationSent: boolean }> {
    const user = await findUserByAffiliate(trx, affiliateId);
    const affiliate = await this.mail.affiliateContact(trx, affiliateId);
    if (!affiliate) return { verificationSent: false };
    let verificationSent = false;
    if (user && this.mail.configured) {
      const token = await this.issue(trx, user.id, 'verify');
      verificationSent = await this.mail.queue(trx, 'account.verify_email', user.email, {
        account: { name: user.name, email: user.email },
        verifyUrl: `${this.mail.origin()}/portal/verify?token=${encodeURIComponent(token)}`,
      });
    }
    // Without a way to deliver the link (no SMTP server, or the template switched off) the
    // address cannot be verified, and the affiliate must still be able to sign in.
    if (user && verificationSent) await updateUser(trx, user.id, { email_verified: false });
    const portalUrl = `${this.mail.origin()}/portal`;
    if (status === 'approved')
      await this.mail.queue(trx, 'affiliate.approved', affiliate.email, { affiliate, portalUrl });
    else await this.mail.queue(trx, 'affiliate.signup_received', affiliate.email, { affiliate, portalUrl });
    await this.mail.queue(trx, 'merchant.affiliate_signup', await this.mail.ownerAddresses(trx), {
      affiliate,
      affiliateUrl: `${this.mail.origin()}/admin/affiliates/${affiliateId}`,
    });
    return { verificationSent };
  }

  /** Follows a verification link: the account may sign in. */
  async verifyEmail(token: string): Promise<{ email: string }> {
    const found = await this.usableToken(token, ['verify']);
    return transaction(this.db, async (trx) => {
      const now = this.clock();
      if (!(await useAccountToken(trx, found.id, now))) throw this.refusedUsed();
      const user = await findUser(trx, found.userId);
      if (!user) throw new TokenRefused('This link belongs to an account that no longer exists');
      await updateUser(trx, user.id, { email_verified: true, updated_at: now });
      await recordAudit(
        trx,
        { userId: user.id, label: user.email, role: user.role, affiliateId: user.affiliate_id },
        'user.emailVerified',
        'user',
        user.id,
        {},
        now,
      );
      return { email: user.email };
    });
  }

  /** The mail of a merchant's review of an affiliate, in the review's transaction. */
  async onAffiliateStatus(trx: Knex, affiliateId: number, from: string, to: string): Promise<void> {
    if (from === to || (to !== 'approved' && to !== 'declined')) return;
    const affiliate = await this.mail.affiliateContact(trx, affiliateId);
    if (!affiliate) return;
    const name = to === 'approved' ? 'affiliate.approved' : 'affiliate.declined';
    await this.mail.queue(trx, name, affiliate.email, { affiliate, portalUrl: `${this.mail.origin()}/portal` });
  }

  // ---- Staff --------------------------------------------------------------------------------------

  async staff(): Promise<StaffUser[]> {
    const users = await listUsers(this.db, ['owner', 'manager']);
    const invited = new Set(await invitedUserIds(this.db, ['owner', 'manager']));
    return users.map((u) => ({ ...u, invited: invited.has(u.id) }));
  }

  /**
   * Invites someone to the admin: an account without a password and a mail with a link to set
   * one (valid 7 days). Answers the link too: without SMTP the owner passes it on personally.
   */
  async invite(
    email: string,
    role: 'owner' | 'manager',
    actor: Actor,
  ): Promise<{ user: User; link: string; mailed: boolean }> {
    this.requireOwner(actor);
    const address = email.trim().toLowerCase();
    if (await findUserByEmail(this.db, address)) throw fieldError('email', 'an account with this email already exists');
    return transaction(this.db, async (trx) => {
      const now = this.clock();
      // An empty hash matches no password: the account cannot sign in until the invitation is accepted.
      const id = await insertUser(trx, {
        email: address,
        name: '',
        password_hash: '',
        role,
        affiliate_id: null,
        created_at: now,
        updated_at: now,
      });
      const token = await this.issue(trx, id, 'invite');
      const link = this.resetUrl({ role }, token, true);
      const mailed = await this.mail.queue(trx, 'account.invite', address, {
        account: { email: address, role },
        invitedBy: actor.label,
        acceptUrl: link,
        validDays: INVITE_VALID_MS / 86_400_000,
      });
      await recordAudit(trx, actor, 'user.invited', 'user', id, { email: address, role }, now);
      const user = (await listUsers(trx, [role])).find((u) => u.id === id);
      if (!user) throw new Error('the invited account was not written');
      return { user, link, mailed: mailed && this.mail.configured };
    });
  }

  /** Changes a staff member's role; the last owner stays an owner. Their sessions end (their role changed). */
  async changeRole(userId: number, role: 'owner' | 'manager', actor: Actor): Promise<void> {
    this.requireOwner(actor);
    await transaction(this.db, async (trx) => {
      const user = await this.staffRow(trx, userId);
      if (user.role === role) return;
      if (user.role === 'owner' && (await countOwners(trx)) <= 1)
        throw conflict('This is the only owner: make someone else an owner first');
      const now = this.clock();
      await updateUser(trx, userId, { role, updated_at: now });
      await raiseTokenVersion(trx, userId, now);
      await recordAudit(trx, actor, 'user.roleChanged', 'user', userId, { from: user.role, to: role }, now);
    });
  }

  /** Removes a staff account; never the last owner. */
  async remove(userId: number, actor: Actor): Promise<void> {
    this.requireOwner(actor);
    await transaction(this.db, async (trx) => {
      const user = await this.staffRow(trx, userId);
      if (user.role === 'owner' && (await countOwners(trx)) <= 1)
        throw conflict('This is the only owner and cannot be removed');
      await deleteUser(trx, userId);
      await recordAudit(trx, actor, 'user.removed', 'user', userId, { email: user.email, role: user.role });
    });
  }

  async staffMember(userId: number): Promise<StaffUser> {
    const found = (await this.staff()).find((u) => u.id === userId);
    if (!found) throw notFound('staff member', userId);
    return found;
  }

  private async staffRow(trx: Knex, userId: number): Promise<UserRow> {
    const user = await lockUser(trx, userId);
    if (!user || user.role === 'affiliate') throw notFound('staff member', userId);
    return user;
  }

  private requireOwner(actor: Actor): void {
    if (actor.role !== 'owner') throw forbidden('Only an owner manages staff');
  }
}
