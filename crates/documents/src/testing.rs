//! A real S3 server for tests: s3s with the s3s-fs backend, in the test process, on
//! 127.0.0.1 with a fixed key pair. Enabled by the `testing` feature.

use std::net::SocketAddr;
use std::path::Path;

/// The access key the test server accepts.
pub const ACCESS_KEY: &str = "granary-test-access";
/// The secret the test server accepts.
pub const SECRET_KEY: &str = "granary-test-secret-key";

/// Starts an s3s-fs server on 127.0.0.1:0 serving `fs_root`. The task runs until aborted
/// or the runtime ends.
pub async fn start_s3_server(fs_root: &Path) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto::Builder as ConnBuilder;
    use s3s::auth::SimpleAuth;
    use s3s::service::S3ServiceBuilder;

    std::fs::create_dir_all(fs_root).expect("create the S3 server's folder");
    let fs = s3s_fs::FileSystem::new(fs_root).expect("s3s-fs");
    let service = {
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        builder.build()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let server = tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let service = service.clone();
            tokio::spawn(async move {
                let _ = ConnBuilder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(socket), service)
                    .await;
            });
        }
    });
    (addr, server)
}
