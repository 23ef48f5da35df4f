import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BallastError } from '@ballast/common';
import { DirectoryTarget } from './directory-target.js';
import { S3Target, type S3TargetOptions } from './s3-target.js';
import type { BackupTarget } from './target.js';

export type S3Connection = Omit<S3TargetOptions, 'bucket' | 'prefix'>;

/**
 * A target from a URL: `file:///path`, a plain path (absolute or relative to the working
 * directory), or `s3://bucket/prefix` with the endpoint and credentials in `s3`.
 */
export function openTarget(url: string, s3?: S3Connection): BackupTarget {
  if (url.startsWith('s3://')) {
    const rest = url.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1);
    if (!bucket) throw new BallastError('INVALID_ARGUMENT', `no bucket in ${url}`);
    if (!s3) {
      throw new BallastError('INVALID_ARGUMENT', `${url} needs an S3 endpoint and credentials`);
    }
    return new S3Target({ ...s3, bucket, prefix });
  }
  if (url.startsWith('file:')) {
    let path: string;
    try {
      path = fileURLToPath(url);
    } catch (err) {
      throw new BallastError('INVALID_ARGUMENT', `bad file URL ${url}`, undefined, err);
    }
    return new DirectoryTarget(path);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new BallastError(
      'INVALID_ARGUMENT',
      `unsupported backup target ${url} (file:// or s3://)`,
    );
  }
  if (url === '') throw new BallastError('INVALID_ARGUMENT', 'empty backup target');
  return new DirectoryTarget(isAbsolute(url) ? url : resolve(url));
}
