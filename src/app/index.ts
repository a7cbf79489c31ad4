// The reference application, built only on Eventloom's public API. Named exports, by hand.

export { createReferenceApp } from './createReferenceApp.js';
export type { ReferenceApp, ReferenceAppOptions } from './createReferenceApp.js';
export { seedSampleCatalog, CATALOG_ACTOR } from './sampleCatalog.js';

export { createAccounts, emailKey, usernameKey } from './accounts.js';
export {
  APP_PERSONAL_DATA,
  maySeePersonalData,
  REDACTED,
  redactForViewer,
  storeSeenBy,
} from './appPersonalData.js';
export type {
  Account,
  AccountChanges,
  Accounts,
  AccountsOptions,
  Registration,
} from './accounts.js';
export { createFeed, TWEET_BODY } from './feed.js';
export type { Feed, Tweet } from './feed.js';
export { createShop } from './shop.js';
export { createInventory } from './inventory.js';
export {
  DEFAULT_EMAIL_FROM,
  EmailDeliveryError,
  emailMessageId,
  isEmailDeliveryError,
} from './emailSender.js';
export type { EmailKind, EmailSender, OutgoingEmail, SentEmail } from './emailSender.js';
export { orderShippedEmail, welcomeEmail } from './emailTemplates.js';
export type { CausingEvent, Recipient } from './emailTemplates.js';
export { createEmailSender } from './createEmailSender.js';
export type { EmailSenderConfig } from './createEmailSender.js';
export { createSmtpEmailSender } from './smtpEmailSender.js';
export type { SmtpEmailSenderOptions } from './smtpEmailSender.js';
export { createOutboxEmailSender, outboxFileName } from './outboxEmailSender.js';
export type { OutboxEmailSenderOptions } from './outboxEmailSender.js';
export type { Inventory, InventoryWriteOptions, ReservationOutcome } from './inventory.js';
export { reservationDecider } from './reservationDecider.js';
export type {
  ReservationCommand,
  ReservationEvent,
  ReservationRefusal,
  ReservationState,
  StockLine,
} from './reservationDecider.js';
export type {
  NewProduct,
  Order,
  OrderTransitions,
  Payment,
  Product,
  ServiceWriteOptions,
  Shop,
  ShopOptions,
} from './shop.js';
export type { Actor } from './actor.js';
export { canActFor } from './actor.js';
export type { WriteOptions, WriteResult } from './commandOptions.js';
export { EMAIL, NAME, PASSWORD, USERNAME } from './accountRules.js';

export { createArgon2Hasher } from './passwordHasher.js';
export type { Argon2Options, PasswordHasher } from './passwordHasher.js';
export { createCredentialStore } from './credentialStore.js';
export type { CredentialStore } from './credentialStore.js';
export { createUniqueValues } from './uniqueValues.js';
export type { UniqueValues, UniqueValuesOptions } from './uniqueValues.js';

export { rejected, rejectionOf } from './rejection.js';
export type { Rejection, RejectionReason } from './rejection.js';

export { userDecider, publicUserState } from './userDecider.js';
export type { UserCommand, UserEvent, UserState } from './userDecider.js';
export { tweetDecider } from './tweetDecider.js';
export type { TweetCommand, TweetEvent, TweetState } from './tweetDecider.js';
export { MAX_STOCK, productDecider } from './productDecider.js';
export type {
  ProductCommand,
  ProductEvent,
  ProductFields,
  ProductState,
  StockChange,
  StockReservation,
} from './productDecider.js';
export type { ProductAddedBy } from './productDecider.js';
export { ORDER_STATUSES, orderDecider, orderTimeline, PAYMENT_METHODS } from './orderDecider.js';
export type {
  OrderCommand,
  OrderEvent,
  OrderLine,
  OrderState,
  OrderStatus,
  OrderTimelineEntry,
  PaymentMethod,
} from './orderDecider.js';
export { uniqueValueDecider } from './uniqueValueDecider.js';
export type { UniqueValueCommand, UniqueValueEvent } from './uniqueValueDecider.js';
export type { UniqueValueState } from './uniqueValueDecider.js';

export {
  APP_PROJECTIONS,
  COLLECTIONS,
  READ_MODEL_INDEXES,
  shopProjection,
  tweetsProjection,
  usersProjection,
} from './readModelProjections.js';
export type {
  OrderDoc,
  PaymentDoc,
  ProductDoc,
  TweetDoc,
  UserDoc,
} from './readModelProjections.js';
export { createReadModelQueries } from './readModelQueries.js';
export type { ReadModelQueries } from './readModelQueries.js';
export { aggregateStateAt } from './aggregateStates.js';
export type { AggregateStateAt } from './aggregateStates.js';
export { loadAggregate } from './loadAggregate.js';
export type { LoadedAggregate } from './loadAggregate.js';
export {
  APP_CATEGORIES,
  categoryOf,
  isAppCategory,
  isEntityId,
  toOrderStream,
  toReservationStream,
  toProductStream,
  toTweetStream,
  toUserStream,
} from './streamNames.js';
export type { AppCategory } from './streamNames.js';
