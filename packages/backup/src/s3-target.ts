import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { inspect } from 'node:util';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BallastError } from '@ballast/common';
import type { BackupTarget, ListPage, ObjectInfo } from './target.js';

export interface S3TargetOptions {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing slash ('' for the bucket root). */
  prefix?: string;
  /** e.g. http://127.0.0.1:7480; omitted for AWS itself. */
  endpoint?: string;
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Path-style addressing (http://host/bucket/key); on by default, as S3-compatible stores need. */
  forcePathStyle?: boolean;
  /** SDK attempts per request (the first one included) with its standard backoff; default 5. */
  maxAttempts?: number;
  /** Bodies larger than this go up as multipart uploads of parts this size; default 16 MiB. */
  partSizeBytes?: number;
  /** Parts of one multipart upload in flight; default 2. */
  partQueueSize?: number;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/**
 * A repository in an S3 bucket (AWS or a compatible store such as Ceph's radosgw), through the
 * AWS SDK v3: retries with backoff are the SDK's, large bodies go through lib-storage's multipart
 * upload. Credentials live in private fields only: neither `JSON.stringify`, `util.inspect` nor
 * an error message shows them.
 */
export class S3Target implements BackupTarget {
  readonly description: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly #client: S3Client;
  readonly #partSizeBytes: number;
  readonly #partQueueSize: number;

  constructor(options: S3TargetOptions) {
    if (!options.bucket) throw new BallastError('INVALID_ARGUMENT', 'an S3 target needs a bucket');
    if (!options.accessKeyId || !options.secretAccessKey) {
      throw new BallastError(
        'INVALID_ARGUMENT',
        'an S3 target needs an access key and a secret key',
      );
    }
    this.bucket = options.bucket;
    this.prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.description =
      `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}` +
      (options.endpoint ? ` at ${options.endpoint}` : '');
    this.#partSizeBytes = options.partSizeBytes ?? 16 * 1024 * 1024;
    this.#partQueueSize = options.partQueueSize ?? 2;
    this.#client = new S3Client({
      endpoint: options.endpoint,
      region: options.region ?? 'us-east-1',
      forcePathStyle: options.forcePathStyle ?? true,
      credentials: {
        accessKeyId: options.accessKeyId,
        secretAccessKey: options.secretAccessKey,
      },
      maxAttempts: options.maxAttempts ?? 5,
      retryMode: 'standard',
      // S3-compatible stores (radosgw Pacific) refuse the aws-chunked bodies with trailing
      // checksums that newer SDKs send by default (411 MissingContentLength).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: options.connectTimeoutMs ?? 5_000,
        requestTimeout: options.requestTimeoutMs ?? 120_000,
      },
    });
  }

  toJSON(): Record<string, unknown> {
    return { type: 's3', description: this.description };
  }

  [inspect.custom](): string {
    return `S3Target(${this.description})`;
  }

  #key(key: string): string {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async put(key: string, body: Buffer | Readable, opts?: { signal?: AbortSignal }): Promise<void> {
    const Key = this.#key(key);
    try {
      if (Buffer.isBuffer(body) && body.length <= this.#partSizeBytes) {
        await this.#client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key,
            Body: body,
            ContentLength: body.length,
          }),
          { abortSignal: opts?.signal },
        );
        return;
      }
      const upload = new Upload({
        client: this.#client,
        params: { Bucket: this.bucket, Key, Body: body },
        partSize: this.#partSizeBytes,
        queueSize: this.#partQueueSize,
        leavePartsOnError: false,
      });
      const onAbort = (): void => void upload.abort().catch(() => undefined);
      opts?.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await upload.done();
      } finally {
        opts?.signal?.removeEventListener('abort', onAbort);
      }
    } catch (err) {
      if (opts?.signal?.aborted) throw opts.signal.reason;
      throw this.#error(`put ${key}`, err);
    }
  }

  async get(key: string, range?: { offset: number; length: number }): Promise<Buffer> {
    if (range && range.length === 0) return Buffer.alloc(0);
    try {
      const out = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.#key(key),
          Range: range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined,
        }),
      );
      if (!out.Body) return Buffer.alloc(0);
      return Buffer.from(await out.Body.transformToByteArray());
    } catch (err) {
      throw this.#error(`get ${key}`, err);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.#key(key) }),
      );
      return {
        key,
        sizeBytes: out.ContentLength ?? 0,
        modifiedMs: out.LastModified?.getTime() ?? 0,
      };
    } catch (err) {
      const e = this.#error(`head ${key}`, err);
      if (e.code === 'NOT_FOUND' && e.details?.['bucketMissing'] !== true) return undefined;
      throw e;
    }
  }

  async listPage(prefix: string, next?: string, pageSize = 1000): Promise<ListPage> {
    try {
      const out = await this.#client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.#key(prefix),
          ContinuationToken: next,
          MaxKeys: pageSize,
        }),
      );
      const strip = this.prefix ? this.prefix.length + 1 : 0;
      const objects = (out.Contents ?? []).map((o) => ({
        key: (o.Key ?? '').slice(strip),
        sizeBytes: o.Size ?? 0,
        modifiedMs: o.LastModified?.getTime() ?? 0,
      }));
      return { objects, next: out.IsTruncated ? out.NextContinuationToken : undefined };
    } catch (err) {
      throw this.#error(`list ${prefix}`, err);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: this.#key(key) }),
      );
    } catch (err) {
      const e = this.#error(`delete ${key}`, err);
      if (e.code === 'NOT_FOUND' && e.details?.['bucketMissing'] !== true) return;
      throw e;
    }
  }

  async validate(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      const e = this.#error('check the bucket', err);
      if (e.code === 'NOT_FOUND') {
        throw new BallastError(
          'NOT_FOUND',
          `bucket ${this.bucket} does not exist at ${this.description}`,
          {
            bucketMissing: true,
          },
        );
      }
      throw e;
    }
    const key = `probe/${randomBytes(8).toString('hex')}`;
    const data = randomBytes(64);
    await this.put(key, data);
    const back = await this.get(key);
    await this.delete(key);
    if (!back.equals(data)) {
      throw new BallastError('IO', `${this.description} returned other bytes than it was given`);
    }
  }

  async abortIncompleteUploads(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      for (;;) {
        const out = await this.#client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: this.prefix ? `${this.prefix}/` : undefined,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
        for (const u of out.Uploads ?? []) {
          if (!u.Key || !u.UploadId || (u.Initiated?.getTime() ?? 0) > cutoff) continue;
          await this.#client.send(
            new AbortMultipartUploadCommand({
              Bucket: this.bucket,
              Key: u.Key,
              UploadId: u.UploadId,
            }),
          );
          aborted++;
        }
        if (!out.IsTruncated) return aborted;
        keyMarker = out.NextKeyMarker;
        uploadIdMarker = out.NextUploadIdMarker;
      }
    } catch (err) {
      throw this.#error('abort incomplete uploads', err);
    }
  }

  /** Closes the SDK's connections. */
  destroy(): void {
    this.#client.destroy();
  }

  /** The SDK's error as a BallastError whose code says what to do about it. */
  #error(what: string, err: unknown): BallastError {
    const e = err as {
      name?: string;
      code?: string;
      message?: string;
      $metadata?: { httpStatusCode?: number };
    };
    const status = e.$metadata?.httpStatusCode;
    const name = e.name ?? e.code ?? '';
    const msg = `${this.description}: ${what}: ${name}${e.message && e.message !== name ? `: ${e.message}` : ''}`;
    if (name === 'NoSuchBucket') {
      return new BallastError(
        'NOT_FOUND',
        `${this.description}: bucket ${this.bucket} does not exist`,
        {
          bucketMissing: true,
        },
        err,
      );
    }
    if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
      return new BallastError('NOT_FOUND', msg, { status }, err);
    }
    if (
      name === 'InvalidAccessKeyId' ||
      name === 'SignatureDoesNotMatch' ||
      status === 401 ||
      (status === 403 && name !== 'AccessDenied')
    ) {
      return new BallastError(
        'UNAUTHORIZED',
        `${this.description}: credentials refused (${name && name !== 'Unknown' ? name : `HTTP ${status}`})`,
        { status },
        err,
      );
    }
    if (name === 'AccessDenied' || status === 403) {
      return new BallastError(
        'FORBIDDEN',
        `${this.description}: access denied: ${what}`,
        { status },
        err,
      );
    }
    const net = [
      'ECONNREFUSED',
      'ECONNRESET',
      'EPIPE',
      'ETIMEDOUT',
      'EHOSTUNREACH',
      'ENOTFOUND',
      'TimeoutError',
      'RequestTimeout',
    ];
    if (
      net.includes(e.code ?? '') ||
      net.includes(name) ||
      (status !== undefined && status >= 500)
    ) {
      return new BallastError(
        'UNAVAILABLE',
        `${this.description} unreachable or failing: ${what}: ${e.code ?? name} ${e.message ?? ''}`.trim(),
        { status },
        err,
      );
    }
    return new BallastError('IO', msg, { status }, err);
  }
}
