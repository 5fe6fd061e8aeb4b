import { timingSafeEqual } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { sha256 } from '../common/crypto.js';
import { writePrivateFile } from '../common/private-files.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';

export const INITIAL_ADMIN_PASSWORD_FILE = 'initial-admin-password';

/**
 * A generated admin password is kept in DATA_DIR/initial-admin-password (mode 0600, in a 0700 directory)
 * until the first successful sign-in with it, and shown at every start until then: a first start that
 * fails after creating the admin (the port is busy, say), or a console nobody kept, no longer loses it.
 */
@Injectable()
export class InitialAdminPassword {
  private readonly logger = new Logger(InitialAdminPassword.name);
  readonly file: string;
  /**
   * Seen absent (read, or removed) and not written since by this process: only this service writes it, when it
   * creates the admin, so sign-ins then skip a file system call (and its ENOENT error) each.
   */
  private absent = false;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.file = path.join(config.dataDir, INITIAL_ADMIN_PASSWORD_FILE);
  }

  /** Keeps it; false (with a warning) when DATA_DIR cannot be written, and then the console is all there is. */
  async keep(password: string): Promise<boolean> {
    try {
      await writePrivateFile(this.file, `${password}\n`);
      this.absent = false;
      return true;
    } catch (error) {
      this.logger.warn(`could not keep the generated admin password in ${this.file} (${(error as Error).message}); it is shown only now`);
      return false;
    }
  }

  async read(): Promise<string | undefined> {
    try {
      const password = (await readFile(this.file, 'utf8')).trim();
      return password === '' ? undefined : password;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        this.absent = true;
        return undefined;
      }
      throw error;
    }
  }

  async discard(): Promise<void> {
    await rm(this.file, { force: true });
    this.absent = true;
  }

  /** After a successful sign-in: the password has reached its owner when it is the kept one. Never fails the sign-in. */
  async discardIfUsed(password: string): Promise<void> {
    if (this.absent) return;
    try {
      const kept = await this.read();
      if (kept === undefined || !timingSafeEqual(sha256(kept), sha256(password))) return;
      await this.discard();
      this.logger.log(`the initial admin password was used to sign in; removed ${this.file}`);
    } catch (error) {
      this.logger.warn(`could not remove ${this.file}: ${(error as Error).message}`);
    }
  }
}
