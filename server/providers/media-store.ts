import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type MediaExt = 'png' | 'jpeg' | 'webp';

/**
 * Images the gateway produced itself (the local provider, Gemini's inline bytes), kept on disk and
 * served at /media. Names are random so a URL cannot be guessed from another one.
 */
export class MediaStore {
  private readonly publicBaseUrl: string;

  constructor(
    private readonly dir: string,
    publicBaseUrl: string,
  ) {
    this.publicBaseUrl = publicBaseUrl.replace(/\/+$/, '');
  }

  async save(bytes: Buffer, ext: MediaExt): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const file = `${randomUUID()}.${ext}`;
    // 'wx' never overwrites: a collision is an error, not a silently replaced image.
    await writeFile(join(this.dir, file), bytes, { flag: 'wx' });
    return `${this.publicBaseUrl}/media/${file}`;
  }
}
