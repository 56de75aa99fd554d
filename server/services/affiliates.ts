import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import { audited, changedFields } from './audit.js';
import { randomCode } from './random.js';
import { hashPassword } from './passwords.js';
import { withConstraints } from './constraints.js';
import { fieldError, notFound } from '../errors.js';
import * as store from '../store/affiliates.js';
import { findUserByEmail, findUserByAffiliate, insertUser, raiseTokenVersion, updateUser } from '../store/users.js';
import type { AffiliateCreate, AffiliatePatch } from '../schemas/programme.js';
import type { PageQuery } from '../validation.js';
import type { OutgoingHttp } from './outgoing-http.js';
import { payoutDetailsProblem, type ProfileInput } from '../schemas/affiliate-profile.js';

/** The affiliate itself accepting the programme's terms (sign-up, portal): stamps acceptedTermsAt. */
export type TermsAcceptance = { acceptTerms?: boolean | undefined };

/** The profile columns of a create or PATCH (only the fields it names). */
function profileColumns(p: ProfileInput): store.AffiliateColumns {
  return {
    ...(p.website !== undefined && { website: p.website }),
    ...(p.promotionMethod !== undefined && { promotion_method: p.promotionMethod }),
    ...(p.payoutMethod !== undefined && { payout_method: p.payoutMethod }),
    ...(p.payoutDetails !== undefined && {
      payout_details: p.payoutDetails === null ? null : JSON.stringify(p.payoutDetails),
    }),
    ...(p.taxId !== undefined && { tax_id: p.taxId }),
  };
}

/**
 * The payout method and details after a change: details must be those of the method. A new
 * method without details clears details of another method (they could not pay it).
 */
function checkedPayout(current: store.Affiliate | null, p: ProfileInput): ProfileInput {
  const method = p.payoutMethod !== undefined ? p.payoutMethod : (current?.payoutMethod ?? null);
  let details = p.payoutDetails !== undefined ? p.payoutDetails : (current?.payoutDetails ?? null);
  const out: ProfileInput = { ...p };
  if (p.payoutDetails === undefined && p.payoutMethod !== undefined && details !== null) {
    if (payoutDetailsProblem(method, details)) {
      details = null;
      out.payoutDetails = null;
    }
  }
  const problem = payoutDetailsProblem(method, details);
  if (problem) throw fieldError(problem[0], problem[1]);
  return out;
}

/** What else happens in the transaction of an affiliate's change (the review mails, SPEC §13). */
export interface AffiliateEvents {
  statusChanged(trx: Knex, affiliateId: number, from: string, to: string): Promise<void>;
}

export class AffiliateService {
  constructor(
    private readonly db: Knex,
    private readonly outgoing: OutgoingHttp,
    private readonly onChange: () => void = () => {},
    private readonly clock: () => number = Date.now,
    private readonly events: AffiliateEvents | null = null,
  ) {}

  list(filters: store.AffiliateFilters, page: PageQuery) {
    return store.listAffiliates(this.db, filters, page);
  }

  async get(id: number): Promise<store.Affiliate> {
    const affiliate = await store.getAffiliate(this.db, id);
    if (!affiliate) throw notFound('affiliate', id);
    return affiliate;
  }

  async create(
    input: AffiliateCreate & TermsAcceptance,
    actor: Actor,
    defaultStatus: store.Affiliate['status'] = 'approved',
    /** Runs in the creating transaction (the sign-up's mails). */
    onCreated?: (trx: Knex, id: number) => Promise<void>,
  ): Promise<store.Affiliate> {
    const now = this.clock();
    const refId = input.refId ?? randomCode(8);
    await this.outgoing.check('postbackUrl', input.postbackUrl);
    const passwordHash = input.password ? await hashPassword(input.password) : null;
    const id = await this.guard(() =>
      audited(this.db, actor, 'affiliate.created', 'affiliate', async (trx) => {
        if (input.parentId) await this.requireAffiliate(trx, input.parentId, 'parentId');
        await requireFreeRefId(trx, refId, null);
        if (passwordHash && (await findUserByEmail(trx, input.email))) {
          throw fieldError('email', 'an account with this email already exists');
        }
        const newId = await store.insertAffiliate(trx, {
          ref_id: refId,
          name: input.name,
          email: input.email,
          status: input.status ?? defaultStatus,
          parent_id: input.parentId ?? null,
          overwrite_cookie: input.overwriteCookie ?? null,
          postback_url: input.postbackUrl ?? null,
          archived_at: input.archived ? now : null,
          ...profileColumns(checkedPayout(null, input)),
          accepted_terms_at: input.acceptTerms ? now : null,
          created_at: now,
          updated_at: now,
        });
        if (passwordHash) {
          await insertUser(trx, {
            email: input.email,
            name: input.name,
            password_hash: passwordHash,
            role: 'affiliate',
            affiliate_id: newId,
            created_at: now,
            updated_at: now,
          });
        }
        if (onCreated) await onCreated(trx, newId);
        return { result: newId, objectId: newId, details: changedFields(input) };
      }),
    );
    this.onChange();
    return this.get(id);
  }

  async update(id: number, patch: AffiliatePatch & TermsAcceptance, actor: Actor): Promise<store.Affiliate> {
    const now = this.clock();
    await this.outgoing.check('postbackUrl', patch.postbackUrl);
    const passwordHash = patch.password ? await hashPassword(patch.password) : null;
    await this.guard(() =>
      audited(this.db, actor, 'affiliate.updated', 'affiliate', async (trx) => {
        const current = await store.getAffiliate(trx, id);
        if (!current) throw notFound('affiliate', id);
        if (patch.refId !== undefined) await requireFreeRefId(trx, patch.refId, id);
        if (patch.parentId) {
          await this.requireAffiliate(trx, patch.parentId, 'parentId');
          const chain = await store.parentChain(trx, patch.parentId);
          if (patch.parentId === id || chain.includes(id)) {
            throw fieldError('parentId', 'would make the affiliate its own parent (a loop in the referral chain)');
          }
        }
        await store.updateAffiliate(trx, id, {
          ...(patch.refId !== undefined && { ref_id: patch.refId }),
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.email !== undefined && { email: patch.email }),
          ...(patch.status !== undefined && { status: patch.status }),
          ...(patch.parentId !== undefined && { parent_id: patch.parentId }),
          ...(patch.overwriteCookie !== undefined && { overwrite_cookie: patch.overwriteCookie }),
          ...(patch.postbackUrl !== undefined && { postback_url: patch.postbackUrl }),
          ...(patch.archived !== undefined && {
            archived_at: patch.archived ? (current.archived ? undefined : now) : null,
          }),
          ...profileColumns(checkedPayout(current, patch)),
          ...(patch.acceptTerms && { accepted_terms_at: now }),
          updated_at: now,
        });
        const user = await findUserByAffiliate(trx, id);
        if (user && (passwordHash || patch.email)) {
          await updateUser(trx, user.id, {
            ...(passwordHash && { password_hash: passwordHash }),
            ...(patch.email && { email: patch.email.toLowerCase() }),
            updated_at: now,
          });
        }
        // A declined or archived account, or one with a new password, keeps no session or token.
        if (user && (passwordHash || patch.status === 'declined' || patch.archived === true)) {
          await raiseTokenVersion(trx, user.id, now);
        }
        if (patch.status !== undefined && patch.status !== current.status && this.events) {
          await this.events.statusChanged(trx, id, current.status, patch.status);
        }
        if (!user && passwordHash) {
          await insertUser(trx, {
            email: patch.email ?? current.email,
            name: patch.name ?? current.name,
            password_hash: passwordHash,
            role: 'affiliate',
            affiliate_id: id,
            created_at: now,
            updated_at: now,
          });
        }
        return { result: null, objectId: id, details: changedFields(patch) };
      }),
    );
    this.onChange();
    return this.get(id);
  }

  /** Approve or decline: the merchant's review of a sign-up. */
  setStatus(id: number, status: store.Affiliate['status'], actor: Actor): Promise<store.Affiliate> {
    return this.update(id, { status }, actor);
  }

  async remove(id: number, actor: Actor): Promise<void> {
    await this.guard(() =>
      audited(this.db, actor, 'affiliate.deleted', 'affiliate', async (trx) => {
        const current = await store.getAffiliate(trx, id);
        if (!current) throw notFound('affiliate', id);
        await store.deleteAffiliate(trx, id);
        return { result: null, objectId: id, details: { refId: current.refId, name: current.name } };
      }),
    );
    this.onChange();
  }

  private async requireAffiliate(db: Knex, id: number, field: string): Promise<void> {
    if (!(await store.getAffiliate(db, id))) throw fieldError(field, `affiliate ${id} does not exist`);
  }

  private guard<T>(fn: () => Promise<T>): Promise<T> {
    return withConstraints(
      this.db,
      'affiliate',
      // The driver message quotes the whole INSERT (which names both columns); only the
      // violated index tells them apart: users.email (SQLite) / users_email_unique (MySQL).
      (message) =>
        /users[._]email|users_email_unique/.test(message)
          ? fieldError('email', 'an account with this email already exists')
          : fieldError('refId', 'is already used by another affiliate'),
      fn,
    );
  }
}

/**
 * refIds are unique ignoring case on every database: MySQL's collation already equates "ANN"
 * and "ann", so SQLite must refuse the same pairs for both to behave alike.
 */
async function requireFreeRefId(db: Knex, refId: string, selfId: number | null): Promise<void> {
  if (await store.refIdTaken(db, refId, selfId))
    throw fieldError('refId', 'is already used by another affiliate (refIds ignore case)');
}
