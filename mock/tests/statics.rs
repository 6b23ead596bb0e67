//! Static folders (`--www` at `/`, `--pkg` at `/pkg/`), CORS and the health endpoint.

mod support;

use std::path::PathBuf;

use hubwire_mock::MockConfig;
use support::TestHub;

/// A fresh folder under the system temp dir with the given files; removed on drop.
struct TempFolder(PathBuf);

impl TempFolder {
    fn with_files(name: &str, files: &[(&str, &str)]) -> TempFolder {
        let path = std::env::temp_dir().join(format!("hubwire-mock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        for (file, content) in files {
            let file = path.join(file);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, content).unwrap();
        }
        TempFolder(path)
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn text(url: String) -> (u16, String, String) {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn www_and_pkg_folders_are_served() {
    let www = TempFolder::with_files("www", &[("index.html", "<h1>demo</h1>")]);
    let pkg = TempFolder::with_files(
        "pkg",
        &[("hubwire_bg.wasm", "\0asm"), ("hubwire.js", "export {}")],
    );
    let config = MockConfig {
        www_dir: Some(www.0.clone()),
        pkg_dir: Some(pkg.0.clone()),
        ..MockConfig::default()
    };
    let hub = TestHub::start_with(config).await;
    assert_eq!(text(format!("{}/", hub.base)).await.2, "<h1>demo</h1>");
    let (status, content_type, _) = text(format!("{}/pkg/hubwire_bg.wasm", hub.base)).await;
    assert_eq!((status, content_type.as_str()), (200, "application/wasm"));
    assert_eq!(
        text(format!("{}/pkg/hubwire.js", hub.base)).await.2,
        "export {}"
    );
    assert_eq!(text(format!("{}/missing.html", hub.base)).await.0, 404);
    // The hub's own routes still win over the www folder.
    assert_eq!(hub.get("/control/connections").await.0, 200);
}

#[tokio::test]
async fn without_folders_static_paths_are_404() {
    let hub = TestHub::start().await;
    assert_eq!(text(format!("{}/", hub.base)).await.0, 404);
    assert_eq!(text(format!("{}/pkg/hubwire.js", hub.base)).await.0, 404);
}

#[tokio::test]
async fn missing_folders_are_404_not_errors() {
    let config = MockConfig {
        www_dir: Some(PathBuf::from("/nonexistent/hubwire-www")),
        pkg_dir: Some(PathBuf::from("/nonexistent/hubwire-pkg")),
        ..MockConfig::default()
    };
    let hub = TestHub::start_with(config).await;
    assert_eq!(text(format!("{}/", hub.base)).await.0, 404);
    assert_eq!(text(format!("{}/pkg/hubwire.js", hub.base)).await.0, 404);
}

#[tokio::test]
async fn cors_reflects_the_origin_and_allows_credentials_and_signalr_headers() {
    let hub = TestHub::start().await;
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/hub/negotiate", hub.base),
        )
        .header("Origin", "http://localhost:5173")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,x-requested-with,x-signalr-user-agent",
        )
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    assert_eq!(
        header("access-control-allow-origin").as_deref(),
        Some("http://localhost:5173")
    );
    assert_eq!(
        header("access-control-allow-credentials").as_deref(),
        Some("true")
    );
    let allowed = header("access-control-allow-headers").unwrap_or_default();
    for name in ["authorization", "x-requested-with", "x-signalr-user-agent"] {
        assert!(allowed.contains(name), "{allowed}");
    }
}

/// The CORS headers a preflight from `origin` gets: (allow-origin, allow-credentials).
async fn preflight(hub: &TestHub, origin: &str) -> (Option<String>, Option<String>) {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/hub/negotiate", hub.base),
        )
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    (
        header("access-control-allow-origin"),
        header("access-control-allow-credentials"),
    )
}

#[tokio::test]
async fn a_configured_cors_origin_is_allowed_with_credentials() {
    let hub = TestHub::start_with(MockConfig {
        cors_origins: vec!["http://app.localhost:3000".into()],
        ..MockConfig::default()
    })
    .await;
    assert_eq!(
        preflight(&hub, "http://app.localhost:3000").await,
        (
            Some("http://app.localhost:3000".into()),
            Some("true".into())
        )
    );
}

#[tokio::test]
async fn with_configured_cors_origins_other_origins_are_not_allowed() {
    let hub = TestHub::start_with(MockConfig {
        cors_origins: vec!["http://app.localhost:3000".into()],
        ..MockConfig::default()
    })
    .await;
    assert_eq!(preflight(&hub, "http://evil.localhost").await.0, None);
}

#[tokio::test]
async fn health_answers_ok_with_the_connection_count() {
    let hub = TestHub::start().await;
    let _client = hub.connect().await;
    assert_eq!(
        hub.get("/health").await,
        (200, serde_json::json!({ "status": "ok", "connections": 1 }))
    );
}
