import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

export type MediaExt = 'png' | 'jpeg' | 'webp';

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
