import { randomUUID } from 'node:crypto';
import { link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import {
  DEFAULT_EMAIL_FROM,
  EmailDeliveryError,
  type EmailSender,
  errorCodeOf,
} from './emailSender.js';
import { mailOptionsOf } from './mailOptions.js';

export interface OutboxEmailSenderOptions {
  /** The folder the `.eml` files go to, e.g. `<EVENTLOOM_DATA>/outbox`; made if missing. */
  dir: string;
  /** Default `DEFAULT_EMAIL_FROM`. */
  from?: string;
}

/** `<welcome.0190…@eventloom.invalid>` → `welcome.0190…@eventloom.invalid.eml`. */
export function outboxFileName(messageId: string): string {
  const bare = messageId.replace(/^<|>$/g, '');
  return `${bare.replace(/[^A-Za-z0-9.@_+=-]/g, '_')}.eml`;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );

/**
 * Writes each message as an RFC 5322 `.eml` file named after its Message-ID, for when no
 * SMTP server is configured. Writing is atomic (a temporary file, fsynced, then linked into
 * place), so a reader never sees half a message; a file already there means the message was
 * sent before, and a redelivery writes nothing.
 *
 * @example
 * const mail = createOutboxEmailSender({ dir: join(dataDir, 'outbox') });
 */
export function createOutboxEmailSender(options: OutboxEmailSenderOptions): EmailSender {
  const from = options.from ?? DEFAULT_EMAIL_FROM;
  // Same composer as SMTP, CRLF line ends as on the wire.
  const composer = createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  let made: Promise<unknown> | undefined;

  async function write(messageId: string, bytes: Buffer): Promise<'sent' | 'already-sent'> {
    made ??= mkdir(options.dir, { recursive: true });
    await made;
    const path = join(options.dir, outboxFileName(messageId));
    if (await exists(path)) return 'already-sent';
    const temp = join(options.dir, `.${randomUUID()}.tmp`);
    const file = await open(temp, 'wx', 0o600);
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      // link refuses to replace an existing file: of two concurrent deliveries one wins.
      await link(temp, path);
      return 'sent';
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return 'already-sent';
      // File systems without hard links: rename is atomic too, at the price of replacing.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') {
        await rename(temp, path);
        return 'sent';
      }
      throw error;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  return {
    async send(email) {
      try {
        const info = await composer.sendMail(mailOptionsOf(email, from));
        const outcome = await write(email.messageId, info.message as Buffer);
        return { messageId: email.messageId, outcome };
      } catch (error) {
        throw new EmailDeliveryError(
          email.messageId,
          `Could not write mail ${email.messageId} to the outbox ${options.dir} (${errorCodeOf(error)}); check that the folder is writable`,
          { cause: error },
        );
      }
    },
    async discard(messageId) {
      const path = join(options.dir, outboxFileName(messageId));
      let file;
      try {
        file = await open(path, 'r+');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
      try {
        // Overwritten before it is unlinked, so the address is not left in the freed blocks
        // for a scan of the folder's files (the file system may still keep copies elsewhere).
        const { size } = await file.stat();
        await file.write(Buffer.alloc(size), 0, size, 0);
        await file.sync();
      } finally {
        await file.close();
      }
      await unlink(path);
      return true;
    },
    close() {
      composer.close();
      return Promise.resolve();
    },
  };
}
