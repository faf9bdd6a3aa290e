#!/usr/bin/env node
'use strict';
/*
 * s3rver (npm, 3.7) with atomic object writes, for the durable dev broker (object_store.py).
 *
 * s3rver's filesystem store writes an object in place: it truncates the object's file, then
 * streams the request body into it, and answers without waiting for the write to finish. So
 * (1) a client killed in the middle of a PUT (the broker, kill -9) leaves the object empty or
 * cut short, for good, and (2) a GET right after a PUT can read a file still being written; its
 * metadata.json and .md5 files are rewritten in place the same way. Tansu then reads an empty
 * offsets object ("EOF while parsing a value"). Here every file of an object is written to a
 * temporary file, completely, then renamed over the old one (rename is atomic on POSIX): a
 * reader sees the old object or the new one, and an interrupted PUT leaves the old one.
 *
 * s3rver also ignores the conditional headers of a PUT (If-None-Match: *, If-Match: <etag>), and
 * Tansu's S3 engine relies on them: it advances a partition's watermark.json with a PUT that
 * must fail if another produce changed it first, then writes the batch at the offset it took
 * with a PUT that must fail if the object exists. Without them two produces in flight on one
 * partition took the same offset and the second batch replaced the first: acknowledged records
 * were gone (four producers of 300 records each on one key: 300 left). Here every PUT of an
 * object is written under that object's lock, its conditions checked first, and a failed
 * condition answers 412 PreconditionFailed, as S3 does.
 *
 * Usage: node s3rver_atomic.cjs <the s3rver command-line options>
 */
const crypto = require('crypto');
const path = require('path');
const { Transform, pipeline } = require('stream');
const fs = require('fs-extra');
const FilesystemStore = require('s3rver/lib/stores/filesystem');
const S3Object = require('s3rver/lib/models/object');
const S3Error = require('s3rver/lib/models/error');
const objectController = require('s3rver/lib/controllers/object');
const { pick, pickBy } = require('lodash');

function tempPath(target) {
  return `${target}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
}

async function writeAtomically(target, data) {
  const tmp = tempPath(target);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.remove(tmp).catch(() => {});
    throw err;
  }
}

function expectedLength(metadata) {
  const encoding = String(metadata['content-encoding'] || '');
  if (metadata['x-amz-decoded-content-length'] !== undefined) {
    return Number(metadata['x-amz-decoded-content-length']);
  }
  if (encoding.includes('aws-chunked') || metadata['content-length'] === undefined) {
    return undefined;
  }
  return Number(metadata['content-length']);
}

FilesystemStore.prototype.putMetadata = async function putMetadata(bucket, key, metadata, md5) {
  const json = {
    ...pick(metadata, S3Object.ALLOWED_METADATA),
    ...pickBy(metadata, (value, name) => name.startsWith('x-amz-meta-')),
  };
  if (md5) await writeAtomically(this.getResourcePath(bucket, key, 'object.md5'), md5);
  await writeAtomically(
    this.getResourcePath(bucket, key, 'metadata.json'),
    JSON.stringify(json, null, 2),
  );
};

FilesystemStore.prototype.putObject = async function putObject(object) {
  const objectPath = this.getResourcePath(object.bucket, object.key, 'object');
  await fs.mkdirp(path.dirname(objectPath));
  const tmp = tempPath(objectPath);
  const md5Context = crypto.createHash('md5');
  let size = 0;
  try {
    if (Buffer.isBuffer(object.content)) {
      md5Context.update(object.content);
      size = object.content.length;
      await fs.writeFile(tmp, object.content);
    } else {
      await new Promise((resolve, reject) => {
        pipeline(
          object.content,
          new Transform({
            transform(chunk, encoding, callback) {
              md5Context.update(chunk, encoding);
              size += chunk.length;
              callback(null, chunk);
            },
          }),
          fs.createWriteStream(tmp),
          err => (err ? reject(err) : resolve()),
        );
      });
      const expected = expectedLength(object.metadata || {});
      if (expected !== undefined && expected !== size) {
        throw new Error(`incomplete body: ${size} of ${expected} bytes`);
      }
    }
  } catch (err) {
    await fs.remove(tmp).catch(() => {});
    throw err;
  }
  const md5 = md5Context.digest('hex');
  // The object first: a reader between the renames sees the new bytes with the old etag, never
  // bytes that are not all there. PUTs of one object are serialised (conditionalPut below), so a
  // conditional PUT never reads the etag in that gap.
  await fs.rename(tmp, objectPath);
  stored(this.getBucketPath(object.bucket), objectPath);
  await this.putMetadata(object.bucket, object.key, object.metadata, md5);
  return { size, md5 };
};

/*
 * Listing. Tansu's fetch lists every record batch of the partition (then reads those at and after
 * the offset asked for), so a list runs on every fetch. s3rver walks the bucket with a
 * synchronous stat of each of an object's three files, then reads each object's metadata and
 * md5 files again: reading 1,000 one-record batches back took 87-181 s. This process is the only
 * writer of its directory, so it keeps what it has read: each directory's entries (in key order,
 * updated as objects are written) and each object's metadata (until the object is written or
 * deleted again). Both grow with the objects stored, a few hundred bytes each: a dev store.
 */
const OBJECT_SUFFIX = '._S3rver_object';
const listings = new Map(); // directory path -> [{name, key, isDir}] in key order
const described = new Map(); // object file path -> {metadata, object}
// A metadata read may overlap a write of its object; it keeps what it read only if no write of
// that object finished since it began. Writes are stamped from a clock; the stamps are dropped
// whenever no read is running (a later read begins after all of them).
let clock = 0;
let readsRunning = 0;
const writtenAt = new Map(); // object file path -> clock at its last write or delete

function entryOf(name, isDir) {
  return { name, isDir, key: isDir ? `${name}/` : name.slice(0, -OBJECT_SUFFIX.length) };
}

function byKey(a, b) {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** A directory's subdirectories and objects, in key order. */
function listing(dir) {
  const cached = listings.get(dir);
  if (cached) return cached;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    if (err.code === 'ENOENT') return [];
    throw err;
  }
  const found = entries
    .filter(e => e.isDirectory() || e.name.endsWith(OBJECT_SUFFIX))
    .map(e => entryOf(e.name, e.isDirectory()))
    .sort(byKey);
  listings.set(dir, found);
  return found;
}

/** Record in the kept listings that `objectPath` exists (and the directories leading to it). */
function stored(bucketPath, objectPath) {
  let child = entryOf(path.basename(objectPath), false);
  let dir = path.dirname(objectPath);
  while (dir.length >= bucketPath.length) {
    const entries = listings.get(dir);
    if (entries) {
      let lo = 0;
      let hi = entries.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (byKey(entries[mid], child) < 0) lo = mid + 1;
        else hi = mid;
      }
      if (entries[lo] && entries[lo].key === child.key) return; // known, and so are its parents
      entries.splice(lo, 0, child);
    }
    if (dir === bucketPath) return;
    child = entryOf(path.basename(dir), true);
    dir = path.dirname(dir);
  }
}

/** Forget the kept listings from `objectPath`'s directory up (a delete may remove directories). */
function forgetListings(bucketPath, objectPath) {
  for (let dir = path.dirname(objectPath); dir.length >= bucketPath.length; dir = path.dirname(dir)) {
    listings.delete(dir);
    if (dir === bucketPath) return;
  }
}

function changed(store, bucket, key) {
  const objectPath = store.getResourcePath(bucket, key, 'object');
  clock += 1;
  if (readsRunning > 0) writtenAt.set(objectPath, clock);
  described.delete(objectPath);
  return objectPath;
}

/** An object's metadata and its S3Object for listings, read once after each write. */
async function description(store, bucket, key) {
  const objectPath = store.getResourcePath(bucket, key, 'object');
  const hit = described.get(objectPath);
  if (hit) return hit;
  const began = clock;
  readsRunning += 1;
  try {
    const metadata = await readMetadata.call(store, bucket, key);
    const entry = { metadata, object: new S3Object(bucket, key, null, metadata) };
    if ((writtenAt.get(objectPath) || 0) <= began) described.set(objectPath, entry);
    return entry;
  } finally {
    readsRunning -= 1;
    if (readsRunning === 0) writtenAt.clear();
  }
}

const readMetadata = FilesystemStore.prototype.getMetadata;
FilesystemStore.prototype.getMetadata = async function cachedMetadata(bucket, key) {
  return { ...(await description(this, bucket, key)).metadata };
};

const putMetadata = FilesystemStore.prototype.putMetadata;
FilesystemStore.prototype.putMetadata = async function describedPut(bucket, key, ...rest) {
  try {
    return await putMetadata.call(this, bucket, key, ...rest);
  } finally {
    changed(this, bucket, key);
  }
};
const deleteObject = FilesystemStore.prototype.deleteObject;
FilesystemStore.prototype.deleteObject = async function forgettingDelete(bucket, key) {
  try {
    return await deleteObject.call(this, bucket, key);
  } finally {
    forgetListings(this.getBucketPath(bucket), changed(this, bucket, key));
  }
};
const copyObject = FilesystemStore.prototype.copyObject;
FilesystemStore.prototype.copyObject = async function forgettingCopy(
  srcBucket, srcKey, destBucket, destKey, ...rest
) {
  try {
    return await copyObject.call(this, srcBucket, srcKey, destBucket, destKey, ...rest);
  } finally {
    forgetListings(this.getBucketPath(destBucket), changed(this, destBucket, destKey));
  }
};

/** Every object key under `dir` whose directories `enter` admits, in key order. */
function* objectKeys(dir, bucketPath, enter) {
  for (const entry of listing(dir)) {
    const entryPath = `${dir}/${entry.name}`;
    if (entry.isDir) {
      if (enter(entryPath)) yield* objectKeys(entryPath, bucketPath, enter);
    } else {
      yield FilesystemStore.decodeKeyPath(
        entryPath.slice(bucketPath.length + 1, -OBJECT_SUFFIX.length),
      );
    }
  }
}

FilesystemStore.prototype.listObjects = async function listObjects(bucket, options) {
  const { delimiter = '', startAfter = '', prefix = '', maxKeys = Infinity } = options;
  const bucketPath = this.getBucketPath(bucket);
  const prefixPath = [bucketPath, FilesystemStore.encodeKeyPath(prefix)].join('/');
  const delimiterEnc = FilesystemStore.encodeKeyPath(delimiter);
  const enter = dirPath => {
    if (dirPath.startsWith(prefixPath)) {
      return !(delimiterEnc && dirPath.slice(prefixPath.length).includes(delimiterEnc));
    }
    return prefixPath.startsWith(dirPath);
  };
  const commonPrefixes = new Set();
  const keys = [];
  let isTruncated = false;
  for (const key of objectKeys(bucketPath, bucketPath, enter)) {
    if (key <= startAfter || !key.startsWith(prefix)) continue;
    if (delimiter) {
      const idx = key.slice(prefix.length).indexOf(delimiter);
      if (idx !== -1) {
        commonPrefixes.add(key.slice(0, prefix.length + idx + 1));
        continue;
      }
    }
    if (keys.length < maxKeys) {
      keys.push(key);
    } else {
      isTruncated = true;
      break;
    }
  }
  const found = await Promise.all(
    keys.map(key =>
      description(this, bucket, key).catch(err => {
        if (err.code === 'ENOENT') return undefined; // deleted since the walk
        throw err;
      }),
    ),
  );
  const objects = found.filter(Boolean).map(entry => entry.object);
  return { objects, commonPrefixes: [...commonPrefixes].sort(), isTruncated };
};

const objectLocks = new Map();

/** Run `work` after every earlier call for the same `name` has finished. */
async function serialised(name, work) {
  const previous = objectLocks.get(name) || Promise.resolve();
  let release;
  const mine = new Promise(resolve => (release = resolve));
  const tail = previous.then(() => mine);
  objectLocks.set(name, tail);
  try {
    await previous;
    return await work();
  } finally {
    release();
    if (objectLocks.get(name) === tail) objectLocks.delete(name);
  }
}

function bareEtag(value) {
  return String(value).trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

async function currentEtag(store, bucket, key) {
  try {
    return (await fs.readFile(store.getResourcePath(bucket, key, 'object.md5'), 'utf8')).trim();
  } catch (err) {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  }
}

function preconditionFailed(condition) {
  return new S3Error(
    'PreconditionFailed',
    'At least one of the pre-conditions you specified did not hold',
    { Condition: condition },
  );
}

const unconditionalPut = objectController.putObject;
objectController.putObject = async function conditionalPut(ctx) {
  const noneMatch = ctx.headers['if-none-match'];
  const match = ctx.headers['if-match'];
  const { bucket, key } = ctx.params;
  return serialised(`${bucket}/${key}`, async () => {
    const etag = await currentEtag(ctx.store, bucket, key);
    if (noneMatch !== undefined && etag !== undefined) {
      const tags = String(noneMatch).split(',').map(bareEtag);
      if (tags.includes('*') || tags.includes(etag)) throw preconditionFailed('If-None-Match');
    }
    if (match !== undefined) {
      const tags = String(match).split(',').map(bareEtag);
      if (etag === undefined || !(tags.includes('*') || tags.includes(etag))) {
        throw preconditionFailed('If-Match');
      }
    }
    return unconditionalPut(ctx);
  });
};

require('s3rver/bin/s3rver.js');
