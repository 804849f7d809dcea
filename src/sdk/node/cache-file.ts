/**
 * The provider's optional cache file: the last snapshot it received, so a process can start and
 * answer while the server is down. Written whole to a temporary file and renamed over the old one
 * (a crash mid-write never leaves half a file), one write at a time, after each new version.
 *
 * The file is tied to the server and key it came from by a SHA-256 of both (never the key
 * itself): a file written for another environment or server is ignored.
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import { readFile, rename, unlink, writeFile } from "node:fs/promises";
import { asSnapshotBody, type SnapshotBody } from "../definitions";

const FORMAT = "edgeflags-cache/1";

export interface Cached {
  snapshot: SnapshotBody;
  etag: string | null;
}

export function cacheOwner(baseUrl: string, sdkKey: string): string {
  return createHash("sha256")
    .update(`${baseUrl.replace(/\/+$/, "")}\n${sdkKey}`)
    .digest("hex");
}

/** The cached snapshot, or undefined when the file is missing, unreadable, or another owner's. */
export async function readCacheFile(path: string, owner: string): Promise<Cached | undefined> {
  try {
    const file = JSON.parse(await readFile(path, "utf8")) as {
      format?: unknown;
      owner?: unknown;
      etag?: unknown;
      snapshot?: unknown;
    };
    if (file?.format !== FORMAT || file.owner !== owner) return undefined;
    const snapshot = asSnapshotBody(file.snapshot);
    return snapshot ? { snapshot, etag: typeof file.etag === "string" ? file.etag : null } : undefined;
  } catch {
    return undefined;
  }
}

export class CacheFileWriter {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly owner: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Queues a write of `cached` (after any write already queued). */
  write(cached: Cached): void {
    const text = JSON.stringify({ format: FORMAT, owner: this.owner, etag: cached.etag, snapshot: cached.snapshot });
    this.chain = this.chain.then(() => this.replace(text)).catch(this.onError);
  }

  /** Resolves once every queued write has finished. */
  settled(): Promise<void> {
    return this.chain;
  }

  private async replace(text: string): Promise<void> {
    const tmp = `${this.path}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await writeFile(tmp, text, "utf8");
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }
}
