//! A real S3-compatible server for the tests: s3s over a temporary directory, on a random
//! loopback port, checking every request's SigV4 signature against one static key.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use dialix_infrastructure::{AudioLocation, S3Location};
use hyper::body::Incoming;
use hyper::service::{Service, service_fn};
use hyper_util::rt::TokioIo;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

pub const ACCESS_KEY_ID: &str = "dialix-test-key";
pub const SECRET_ACCESS_KEY: &str = "dialix-test-secret-0123456789";
pub const REGION: &str = "us-east-1";

/// One server with one empty bucket; stopped and removed when dropped.
pub struct S3Server {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    pub bucket: String,
    /// The directory the server keeps its buckets in.
    pub root: PathBuf,
    requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl S3Server {
    pub async fn start() -> Self {
        let root = std::env::temp_dir().join(format!("dialix-test-s3-{}", uuid::Uuid::now_v7()));
        let bucket = "dialix-audio".to_owned();
        std::fs::create_dir_all(root.join(&bucket)).expect("the bucket's directory");
        let mut builder =
            S3ServiceBuilder::new(s3s_fs::FileSystem::new(&root).expect("the S3 file system"));
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY_ID, SECRET_ACCESS_KEY));
        let service = builder.build();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for S3");
        let endpoint = format!("http://{}", listener.local_addr().expect("an address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (service, log) = (service.clone(), log.clone());
                let logged = service_fn(move |request: hyper::Request<Incoming>| {
                    log.lock().expect("the request log").push(format!(
                        "{} {}",
                        request.method(),
                        request.uri()
                    ));
                    Service::call(&service, request)
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), logged),
                );
            }
        });
        Self {
            endpoint,
            bucket,
            root,
            requests,
            task,
        }
    }

    /// The store setting for keys under `prefix` of the bucket, as `DIALIX_AUDIO_STORE` and
    /// the `AWS_*` settings would give it.
    pub fn location(&self, prefix: &str) -> AudioLocation {
        AudioLocation::S3(S3Location {
            bucket: self.bucket.clone(),
            prefix: prefix.to_owned(),
            region: REGION.to_owned(),
            endpoint: Some(self.endpoint.clone()),
            access_key_id: ACCESS_KEY_ID.to_owned(),
            secret_access_key: SECRET_ACCESS_KEY.into(),
        })
    }

    /// The object's bytes as the server stored them, read from its directory.
    pub fn object(&self, name: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root.join(&self.bucket).join(name)).ok()
    }

    /// Every object's name in the bucket, sorted.
    pub fn objects(&self) -> Vec<String> {
        fn walk(dir: &std::path::Path, base: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, base, found);
                } else if let Ok(name) = path.strip_prefix(base) {
                    found.push(name.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        let bucket = self.root.join(&self.bucket);
        let mut found = Vec::new();
        walk(&bucket, &bucket, &mut found);
        found.sort();
        found
    }

    /// `METHOD /bucket/key?query` of every request so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("the request log").clone()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
        std::fs::remove_dir_all(&self.root).ok();
    }
}
