//! The S3 backend (any S3-compatible service), through `aws-sdk-s3`.
//!
//! Uploads are read in `part_size` chunks while hashing: a body that fits in one chunk
//! goes up with a single PutObject, a larger one as a multipart upload that is aborted on
//! any error or when the size limit is exceeded. Only one chunk is in memory at a time.
//! The SHA-256 is stored as object metadata (`x-amz-meta-sha256`); for a multipart upload
//! it is only known at the end, so the finished object is copied onto itself with the
//! metadata replaced (hence the 5 GiB ceiling on `max_size`: S3's CopyObject limit). Should
//! that last copy fail, `put` returns [`DocumentError::Unavailable`] although the new
//! content is already in place, without its `sha256` metadata (head then reports an
//! empty `sha256`). A `put` dropped midway aborts its multipart upload on a spawned task.

use std::fmt;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Region, RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CompletedMultipartUpload, CompletedPart, CreateBucketConfiguration, MetadataDirective,
};
use aws_smithy_http_client::tls;
use aws_smithy_types::timeout::TimeoutConfig;
use bytes::Bytes;
use tokio::io::AsyncReadExt;

use crate::hashing::HashingCounter;
use crate::{ByteReader, DocumentError, DocumentKey, DocumentStore, ObjectMeta};

/// The user-metadata name under which the SHA-256 is kept (`x-amz-meta-sha256`).
const SHA256_METADATA: &str = "sha256";
const MIB: usize = 1024 * 1024;
const GIB: u64 = 1024 * 1024 * 1024;
/// S3 allows at most this many parts in one multipart upload.
const MAX_PARTS: u64 = 10_000;
/// S3's limits: one PutObject / UploadPart and one CopyObject.
const MAX_SINGLE_REQUEST: u64 = 5 * GIB;

/// Where and how to reach the S3 bucket.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// Endpoint URL (`http://127.0.0.1:9000`); `None` for AWS itself.
    pub endpoint: Option<String>,
    pub region: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Path-style addressing (`endpoint/bucket/key`), needed by most non-AWS services.
    pub force_path_style: bool,
    /// The largest body accepted, in bytes (at most 5 GiB).
    pub max_size: u64,
    /// Upload chunk size in bytes: [`S3Settings::DEFAULT_PART_SIZE`] when 0, at least
    /// [`S3Settings::MIN_PART_SIZE`].
    pub part_size: usize,
}

impl S3Settings {
    /// 8 MiB.
    pub const DEFAULT_PART_SIZE: usize = 8 * MIB;
    /// 5 MiB, S3's smallest part (other than the last).
    pub const MIN_PART_SIZE: usize = 5 * MIB;
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[redacted]")
            .field("force_path_style", &self.force_path_style)
            .field("max_size", &self.max_size)
            .field("part_size", &self.part_size)
            .finish()
    }
}

/// Documents kept in an S3 bucket.
#[derive(Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    region: String,
    endpoint: Option<String>,
    max_size: u64,
    part_size: usize,
}

impl fmt::Debug for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Store")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("max_size", &self.max_size)
            .field("part_size", &self.part_size)
            .finish_non_exhaustive()
    }
}

impl S3Store {
    /// A store for `settings.bucket`. Checks the settings but makes no request.
    pub fn new(settings: S3Settings) -> Result<Self, DocumentError> {
        let part_size = validate(&settings)?;
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .build_https();
        let credentials = aws_credential_types::Credentials::from_keys(
            settings.access_key_id.clone(),
            settings.secret_access_key.clone(),
            None,
        );
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .credentials_provider(credentials)
            .region(Region::new(settings.region.clone()))
            .force_path_style(settings.force_path_style)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .timeout_config(TimeoutConfig::builder().connect_timeout(Duration::from_secs(5)).build())
            .http_client(http_client);
        if let Some(endpoint) = &settings.endpoint {
            config = config.endpoint_url(endpoint.clone());
        }
        Ok(Self {
            client: Client::from_conf(config.build()),
            bucket: settings.bucket,
            region: settings.region,
            endpoint: settings.endpoint,
            max_size: settings.max_size,
            part_size,
        })
    }

    /// Creates the bucket if it does not exist yet (for development and tests).
    pub async fn ensure_bucket(&self) -> Result<(), DocumentError> {
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => return Ok(()),
            Err(err) if is_not_found(&err) => {}
            Err(err) => return Err(self.failure("HeadBucket", &err)),
        }
        let mut request = self.client.create_bucket().bucket(&self.bucket);
        if self.region != "us-east-1" {
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(err) if err.code() == Some("BucketAlreadyOwnedByYou") => Ok(()),
            Err(err) => Err(self.failure("CreateBucket", &err)),
        }
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The chunk size used for uploads.
    pub fn part_size(&self) -> usize {
        self.part_size
    }

    fn failure<E, R>(&self, operation: &str, err: &SdkError<E, R>) -> DocumentError
    where
        E: std::error::Error + 'static,
        R: fmt::Debug,
    {
        DocumentError::unavailable(format!(
            "S3 {operation} in bucket {} failed: {}",
            self.bucket,
            DisplayErrorContext(err)
        ))
    }

    /// Fills one part buffer: the carried-over bytes plus up to `part_size + 1` bytes in
    /// total, hashing what is read. Returns the part and whether more data follows (the
    /// byte past `part_size`, if any, is carried into the next part).
    async fn read_part(
        &self,
        body: &mut ByteReader,
        counter: &mut HashingCounter,
        carry: &mut Vec<u8>,
    ) -> Result<(Vec<u8>, bool), DocumentError> {
        let want = self.part_size + 1;
        let mut buf = Vec::with_capacity(want);
        buf.append(carry);
        let mut filled = buf.len();
        buf.resize(want, 0);
        while filled < want {
            let n = body
                .read(&mut buf[filled..])
                .await
                .map_err(|e| DocumentError::body(&e))?;
            if n == 0 {
                break;
            }
            counter.update(&buf[filled..filled + n])?;
            filled += n;
        }
        buf.truncate(filled);
        if filled > self.part_size {
            *carry = buf.split_off(self.part_size);
            Ok((buf, true))
        } else {
            Ok((buf, false))
        }
    }

    async fn put_single(
        &self,
        key: &DocumentKey,
        data: Vec<u8>,
        counter: HashingCounter,
        content_type: Option<&str>,
    ) -> Result<ObjectMeta, DocumentError> {
        let (size, sha256) = counter.finish();
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_length(to_i64(size))
            .set_content_type(content_type.map(str::to_owned))
            .metadata(SHA256_METADATA, &sha256)
            .body(ByteStream::from(Bytes::from(data)))
            .send()
            .await
            .map_err(|err| self.failure("PutObject", &err))?;
        Ok(ObjectMeta {
            key: key.clone(),
            size,
            sha256,
            content_type: content_type.map(str::to_owned),
        })
    }

    /// Uploads `first` and the rest of `body` as parts of `upload_id`, then completes the
    /// upload. Returns the size, SHA-256 and the completed object's ETag.
    async fn upload_parts(
        &self,
        key: &DocumentKey,
        upload_id: &str,
        first: Vec<u8>,
        body: &mut ByteReader,
        mut counter: HashingCounter,
        mut carry: Vec<u8>,
    ) -> Result<(u64, String, Option<String>), DocumentError> {
        let mut parts = Vec::new();
        let mut part = first;
        let mut part_number: i32 = 1;
        loop {
            let length = to_i64(u64::try_from(part.len()).unwrap_or(u64::MAX));
            let uploaded = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(key.as_str())
                .upload_id(upload_id)
                .part_number(part_number)
                .content_length(length)
                .body(ByteStream::from(Bytes::from(part)))
                .send()
                .await
                .map_err(|err| self.failure("UploadPart", &err))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(part_number)
                    .set_e_tag(uploaded.e_tag().map(str::to_owned))
                    .build(),
            );
            if carry.is_empty() {
                break;
            }
            let (next, _more) = self.read_part(body, &mut counter, &mut carry).await?;
            part = next;
            part_number += 1;
        }
        let completed = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .send()
            .await
            .map_err(|err| self.failure("CompleteMultipartUpload", &err))?;
        let (size, sha256) = counter.finish();
        Ok((size, sha256, completed.e_tag().map(str::to_owned)))
    }

    async fn put_multipart(
        &self,
        key: &DocumentKey,
        first: Vec<u8>,
        mut body: ByteReader,
        counter: HashingCounter,
        carry: Vec<u8>,
        content_type: Option<&str>,
    ) -> Result<ObjectMeta, DocumentError> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key.as_str())
            .set_content_type(content_type.map(str::to_owned))
            .send()
            .await
            .map_err(|err| self.failure("CreateMultipartUpload", &err))?;
        let upload_id = created
            .upload_id()
            .map(str::to_owned)
            .ok_or_else(|| DocumentError::unavailable("S3 CreateMultipartUpload returned no upload id"))?;
        let guard = AbortOnDrop {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: key.to_string(),
            upload_id: Some(upload_id.clone()),
        };
        let uploaded = self
            .upload_parts(key, &upload_id, first, &mut body, counter, carry)
            .await;
        let (size, sha256, etag) = match uploaded {
            Ok(done) => {
                guard.disarm();
                done
            }
            Err(err) => {
                guard.abort_now().await;
                return Err(err);
            }
        };
        // The hash is known only now: copy the object onto itself with the metadata
        // replaced, provided it is still the object this upload produced.
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .copy_source(format!("{}/{}", self.bucket, key))
            .set_copy_source_if_match(etag)
            .metadata_directive(MetadataDirective::Replace)
            .metadata(SHA256_METADATA, &sha256)
            .set_content_type(content_type.map(str::to_owned))
            .send()
            .await
            .map_err(|err| self.failure("CopyObject (recording the SHA-256)", &err))?;
        Ok(ObjectMeta {
            key: key.clone(),
            size,
            sha256,
            content_type: content_type.map(str::to_owned),
        })
    }
}

#[async_trait::async_trait]
impl DocumentStore for S3Store {
    async fn put(
        &self,
        key: &DocumentKey,
        mut body: ByteReader,
        content_type: Option<&str>,
    ) -> Result<ObjectMeta, DocumentError> {
        let mut counter = HashingCounter::new(self.max_size);
        let mut carry = Vec::new();
        let (first, more) = self.read_part(&mut body, &mut counter, &mut carry).await?;
        if more {
            self.put_multipart(key, first, body, counter, carry, content_type).await
        } else {
            self.put_single(key, first, counter, content_type).await
        }
    }

    async fn get(&self, key: &DocumentKey) -> Result<(ObjectMeta, ByteReader), DocumentError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(|err| {
                if is_not_found(&err) {
                    not_found(key)
                } else {
                    self.failure("GetObject", &err)
                }
            })?;
        let meta = ObjectMeta {
            key: key.clone(),
            size: to_u64(out.content_length()),
            sha256: sha256_of(out.metadata()),
            content_type: out.content_type().map(str::to_owned),
        };
        Ok((meta, Box::pin(out.body.into_async_read())))
    }

    async fn head(&self, key: &DocumentKey) -> Result<ObjectMeta, DocumentError> {
        let out = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(|err| {
                if is_not_found(&err) {
                    not_found(key)
                } else {
                    self.failure("HeadObject", &err)
                }
            })?;
        Ok(ObjectMeta {
            key: key.clone(),
            size: to_u64(out.content_length()),
            sha256: sha256_of(out.metadata()),
            content_type: out.content_type().map(str::to_owned),
        })
    }

    async fn delete(&self, key: &DocumentKey) -> Result<(), DocumentError> {
        match self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if err.code() == Some("NoSuchKey") => Ok(()),
            Err(err) => Err(self.failure("DeleteObject", &err)),
        }
    }

    async fn check(&self) -> Result<(), DocumentError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|err| {
                if is_not_found(&err) {
                    DocumentError::unavailable(format!("S3 bucket {} does not exist", self.bucket))
                } else {
                    self.failure("HeadBucket", &err)
                }
            })?;
        Ok(())
    }

    fn max_size(&self) -> u64 {
        self.max_size
    }

    fn describe(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => format!("s3 bucket {} at {endpoint}", self.bucket),
            None => format!("s3 bucket {} in AWS region {}", self.bucket, self.region),
        }
    }
}

/// Checks the settings; returns the effective part size.
fn validate(settings: &S3Settings) -> Result<usize, DocumentError> {
    let invalid = |reason: String| DocumentError::unavailable(format!("invalid S3 settings: {reason}"));
    if settings.bucket.trim().is_empty() {
        return Err(invalid("the bucket name is empty".into()));
    }
    if settings.region.trim().is_empty() {
        return Err(invalid("the region is empty".into()));
    }
    if let Some(endpoint) = &settings.endpoint
        && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
    {
        return Err(invalid(format!(
            "the endpoint {endpoint:?} is not an http:// or https:// URL"
        )));
    }
    let part_size = match settings.part_size {
        0 => S3Settings::DEFAULT_PART_SIZE,
        n => n,
    };
    let part_bytes = u64::try_from(part_size).unwrap_or(u64::MAX);
    if part_size < S3Settings::MIN_PART_SIZE {
        return Err(invalid(format!(
            "part_size {part_size} is below S3's minimum of {} bytes",
            S3Settings::MIN_PART_SIZE
        )));
    }
    if part_bytes > MAX_SINGLE_REQUEST {
        return Err(invalid(format!(
            "part_size {part_size} is above S3's maximum of {MAX_SINGLE_REQUEST} bytes"
        )));
    }
    if settings.max_size > MAX_SINGLE_REQUEST {
        return Err(invalid(format!(
            "max_size {} is above {MAX_SINGLE_REQUEST} bytes (S3's CopyObject limit)",
            settings.max_size
        )));
    }
    if settings.max_size > part_bytes.saturating_mul(MAX_PARTS) {
        return Err(invalid(format!(
            "max_size {} needs more than {MAX_PARTS} parts of {part_size} bytes",
            settings.max_size
        )));
    }
    Ok(part_size)
}

/// A 404 for the object: `NoSuchKey`, `NotFound` (HEAD has no body), or a bare 404 that
/// is not about a missing bucket.
fn is_not_found<E, R>(err: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
    R: HasStatus,
{
    match err.code() {
        Some("NoSuchKey" | "NotFound") => true,
        Some("NoSuchBucket") => false,
        _ => err.raw_response().is_some_and(|r| r.status_code() == 404),
    }
}

/// The HTTP status of a raw response (lets `is_not_found` stay generic over the SDK's
/// response type).
trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

fn not_found(key: &DocumentKey) -> DocumentError {
    DocumentError::NotFound { key: key.to_string() }
}

fn sha256_of(metadata: Option<&std::collections::HashMap<String, String>>) -> String {
    metadata
        .and_then(|m| m.get(SHA256_METADATA))
        .cloned()
        .unwrap_or_default()
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: Option<i64>) -> u64 {
    n.and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
}

/// Aborts a multipart upload that did not complete. Errors abort explicitly (and wait);
/// a `put` future dropped midway aborts from `Drop` on a spawned task.
struct AbortOnDrop {
    client: Client,
    bucket: String,
    key: String,
    upload_id: Option<String>,
}

impl AbortOnDrop {
    fn disarm(mut self) {
        self.upload_id = None;
    }

    fn request(
        &self,
        upload_id: String,
    ) -> aws_sdk_s3::operation::abort_multipart_upload::builders::AbortMultipartUploadFluentBuilder {
        self.client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(upload_id)
    }

    async fn abort_now(mut self) {
        if let Some(upload_id) = self.upload_id.take()
            && let Err(err) = self.request(upload_id).send().await
        {
            tracing::warn!(
                bucket = %self.bucket,
                key = %self.key,
                error = %DisplayErrorContext(&err),
                "could not abort an S3 multipart upload"
            );
        }
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        let Some(upload_id) = self.upload_id.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let request = self.request(upload_id);
        runtime.spawn(async move {
            let _ = request.send().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> S3Settings {
        S3Settings {
            endpoint: Some("http://127.0.0.1:9000".into()),
            region: "us-east-1".into(),
            bucket: "granary".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "super-secret-value".into(),
            force_path_style: true,
            max_size: 64 * 1024 * 1024,
            part_size: 0,
        }
    }

    #[test]
    fn debug_redacts_the_secret() {
        let shown = format!("{:?}", settings());
        assert!(!shown.contains("super-secret-value"), "{shown}");
        assert!(shown.contains("[redacted]"));
        assert!(shown.contains("AKIDEXAMPLE"));
    }

    #[test]
    fn part_size_defaults_and_minimum() {
        assert_eq!(validate(&settings()).unwrap(), S3Settings::DEFAULT_PART_SIZE);
        let small = S3Settings {
            part_size: S3Settings::MIN_PART_SIZE - 1,
            ..settings()
        };
        assert!(validate(&small).unwrap_err().is_unavailable());
        let min = S3Settings {
            part_size: S3Settings::MIN_PART_SIZE,
            ..settings()
        };
        assert_eq!(validate(&min).unwrap(), S3Settings::MIN_PART_SIZE);
    }

    #[test]
    fn rejects_bad_settings() {
        for bad in [
            S3Settings {
                bucket: String::new(),
                ..settings()
            },
            S3Settings {
                region: " ".into(),
                ..settings()
            },
            S3Settings {
                endpoint: Some("127.0.0.1:9000".into()),
                ..settings()
            },
            S3Settings {
                max_size: 6 * GIB,
                ..settings()
            },
        ] {
            let err = S3Store::new(bad).unwrap_err();
            assert!(err.is_unavailable(), "{err}");
            assert!(!err.to_string().contains("super-secret-value"));
        }
    }

    #[test]
    fn describe_and_debug_hide_secrets() {
        let store = S3Store::new(settings()).unwrap();
        assert_eq!(store.describe(), "s3 bucket granary at http://127.0.0.1:9000");
        let shown = format!("{store:?}");
        assert!(!shown.contains("super-secret-value"), "{shown}");
        let aws = S3Store::new(S3Settings {
            endpoint: None,
            ..settings()
        })
        .unwrap();
        assert_eq!(aws.describe(), "s3 bucket granary in AWS region us-east-1");
    }
}
