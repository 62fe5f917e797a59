import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { ProviderError } from './types';

export type MediaExt = 'png' | 'jpeg' | 'webp';

/** The disk's word is re-read this often, so files other processes wrote or removed are counted. */
const RESCAN_MS = 60_000;
const UNLIMITED = Number.POSITIVE_INFINITY;

const OWN_FILE = /^[A-Za-z0-9-]+\.(png|jpeg|webp)$/;
const SAMPLE_FILE = 'sample-moodboard.png';

/** The built-in sample: a small moodboard-like picture (warm backdrop, a few shapes), drawn once. */
async function drawSample(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="320">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#8a6a4f"/><stop offset="1" stop-color="#3b3f58"/></linearGradient></defs>
    <rect width="480" height="320" fill="url(#g)"/>
    <circle cx="150" cy="150" r="80" fill="#d9a46c"/>
    <rect x="260" y="70" width="150" height="170" rx="12" fill="#5e8c7a"/>
    <polygon points="60,300 160,210 260,300" fill="#c8c2b4"/>
  </svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/**
 * Images the gateway produced itself (the local provider, Gemini's inline bytes, the degraded
 * lighting look), kept on disk and served at /media. Names are random so a URL cannot be guessed
 * from another one. The directory holds at most `quotaBytes`: past it nothing more is written.
 */
export class MediaStore {
  private readonly publicBaseUrl: string;
  private usedBytes = 0;
  private scannedAt = Number.NEGATIVE_INFINITY;
  private scanning: Promise<void> | null = null;

  constructor(
    private readonly dir: string,
    publicBaseUrl: string,
    private readonly quotaBytes: number = UNLIMITED,
  ) {
    this.publicBaseUrl = publicBaseUrl.replace(/\/+$/, '');
  }

  /** Bytes in the directory: rescanned at most once a minute, plus what this process wrote since. */
  async usage(): Promise<number> {
    if (Date.now() - this.scannedAt > RESCAN_MS) {
      this.scanning ??= this.scan().finally(() => (this.scanning = null));
      await this.scanning;
    }
    return this.usedBytes;
  }

  async hasRoom(): Promise<boolean> {
    return this.quotaBytes === UNLIMITED || (await this.usage()) < this.quotaBytes;
  }

  /** A full store is the writer's failure (it cannot deliver), never the caller's. */
  async assertRoom(): Promise<void> {
    if (!(await this.hasRoom())) throw new ProviderError('quota', `the media store is full (quota ${Math.round(this.quotaBytes / 2 ** 20)} MiB)`);
  }

  async save(bytes: Buffer, ext: MediaExt): Promise<string> {
    await this.assertRoom();
    await mkdir(this.dir, { recursive: true });
    const file = `${randomUUID()}.${ext}`;
    // 'wx' never overwrites: a collision is an error, not a silently replaced image.
    await writeFile(join(this.dir, file), bytes, { flag: 'wx' });
    this.usedBytes += bytes.length;
    return `${this.publicBaseUrl}/media/${file}`;
  }

  /** Deletes the files last written before `cutoff` (the retention job); safe in several processes at once. */
  async removeOlderThan(cutoff: Date): Promise<{ removed: number; freedBytes: number }> {
    let removed = 0;
    let freedBytes = 0;
    for (const { path, size, mtimeMs } of await this.files()) {
      if (mtimeMs >= cutoff.getTime()) continue;
      try {
        await unlink(path);
        removed++;
        freedBytes += size;
      } catch (err) {
        // Another process removed it first.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    this.scannedAt = Number.NEGATIVE_INFINITY;
    return { removed, freedBytes };
  }

  private async scan(): Promise<void> {
    const files = await this.files();
    this.usedBytes = files.reduce((sum, f) => sum + f.size, 0);
    this.scannedAt = Date.now();
  }

  private async files(): Promise<{ path: string; size: number; mtimeMs: number }[]> {
    let entries;
    try {
      entries = await readdir(this.dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out = [];
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const path = join(this.dir, entry.name);
      const s = await stat(path).catch(() => null);
      if (s) out.push({ path, size: s.size, mtimeMs: s.mtimeMs });
    }
    return out;
  }

  /** The URL of the built-in sample image, written into the media directory the first time it is asked for. */
  async sampleUrl(): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    // 'wx' loses the race harmlessly when two requests draw it at once: the same picture is there.
    await writeFile(join(this.dir, SAMPLE_FILE), await drawSample(), { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    return `${this.publicBaseUrl}/media/${SAMPLE_FILE}`;
  }

  /**
   * The bytes of one of our own images when `url` names one (this server's /media), read from disk:
   * the server never fetches its own origin over HTTP, which the URL policy would rightly refuse
   * for a loopback address. Null for any other URL or a file that is not there.
   */
  async readOwn(url: string): Promise<{ bytes: Buffer; contentType: string } | null> {
    const prefix = `${this.publicBaseUrl}/media/`;
    if (!url.startsWith(prefix)) return null;
    const file = url.slice(prefix.length);
    const match = OWN_FILE.exec(file);
    if (!match) return null;
    try {
      return { bytes: await readFile(join(this.dir, file)), contentType: `image/${match[1]}` };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }
}
