//! The web UI in a real headless Chromium (Debian's `chromium`, which `.ci/run`
//! installs): the page loads with no console errors, shows the running framework and
//! its task, and changes, without a reload, when the task finishes. A screenshot is
//! saved in the test's output directory.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::cdp::js_protocol::runtime::{
    ConsoleApiCalledType, EventConsoleApiCalled, EventExceptionThrown,
};
use chromiumoxide::page::{Page, ScreenshotParams};
use futures::StreamExt;
use mesos_master::LocalCluster;
use mesos_sdk::codec::Encoding;
use mesos_sdk::v1;
use support::scheduler::subscribe;
use support::*;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Starts headless Chromium; fails (never skips) when it is not installed.
async fn browser(profile: &Path) -> (Browser, tokio::task::JoinHandle<()>) {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} not found: install Debian's chromium with `apt-get install -y chromium` (.ci/run does)"
    );
    let config = BrowserConfig::builder()
        .chrome_executable(CHROMIUM)
        .no_sandbox()
        .user_data_dir(profile)
        .arg("--disable-gpu")
        .arg("--disable-dev-shm-usage")
        .build()
        .expect("browser config");
    let (browser, mut handler) = Browser::launch(config).await.expect("chromium starts");
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
    (browser, events)
}

/// The page's visible text.
async fn text(page: &Page) -> String {
    page.evaluate("document.body.innerText")
        .await
        .expect("evaluate")
        .into_value::<String>()
        .expect("text")
}

/// Polls the page's text until `cond` holds; panics after [`WAIT`].
async fn until(page: &Page, what: &str, cond: impl Fn(&str) -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = text(page).await;
        if cond(&now) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the page never showed {what}; it shows:\n{now}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ui_shows_a_running_task_and_its_end_live() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui_browser");
    std::fs::create_dir_all(&out).unwrap();
    let work = tempdir(&out, "work");
    let cluster = LocalCluster::builder()
        .agents(1)
        .resources("cpus:2;mem:1024")
        .allocation_interval(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    let mut s = subscribe(&cluster.url(), Encoding::Json, framework_info("ui-watch")).await;
    let offer = s.offers().await.remove(0);
    let flag = work.join("done");
    let shell = format!("while [ ! -e '{}' ]; do sleep 0.05; done", flag.display());
    s.launch(&offer, vec![command_task("ui-task", &offer, &shell)])
        .await;
    s.until_state("ui-task", v1::TaskState::TaskRunning).await;

    let (mut browser, handler) = browser(&tempdir(&out, "profile")).await;
    let page = browser.new_page("about:blank").await.unwrap();
    let mut console = page
        .event_listener::<EventConsoleApiCalled>()
        .await
        .unwrap();
    let mut exceptions = page.event_listener::<EventExceptionThrown>().await.unwrap();
    page.goto(cluster.url()).await.unwrap();
    until(&page, "the framework and its running task", |t| {
        t.contains("ui-watch")
            && t.contains("ui-task")
            && t.contains("TASK_RUNNING")
            && t.contains("live")
    })
    .await;

    // The task finishes; the page follows without a reload.
    let marker = page
        .evaluate("window.__noReload = 1")
        .await
        .unwrap()
        .into_value::<i64>()
        .unwrap();
    assert_eq!(marker, 1);
    std::fs::write(&flag, b"").unwrap();
    s.until_state("ui-task", v1::TaskState::TaskFinished).await;
    until(&page, "the finished task", |t| t.contains("TASK_FINISHED")).await;
    let same_page = page
        .evaluate("window.__noReload === 1")
        .await
        .unwrap()
        .into_value::<bool>()
        .unwrap();
    assert!(same_page, "the page was not reloaded");

    let shot = out.join("ui.png");
    page.save_screenshot(
        ScreenshotParams::builder()
            .format(CaptureScreenshotFormat::Png)
            .full_page(true)
            .build(),
        &shot,
    )
    .await
    .unwrap();
    assert!(std::fs::metadata(&shot).unwrap().len() > 0);

    // No console errors and no uncaught exceptions while it ran.
    let mut errors = Vec::new();
    while let Some(Some(e)) = console.next().now_or_never() {
        if e.r#type == ConsoleApiCalledType::Error {
            errors.push(format!("console.error: {:?}", e.args));
        }
    }
    while let Some(Some(e)) = exceptions.next().now_or_never() {
        errors.push(format!("exception: {:?}", e.exception_details));
    }
    assert!(errors.is_empty(), "{errors:#?}");

    browser.close().await.unwrap();
    let _ = browser.wait().await;
    handler.abort();
    cluster.shutdown().await;
}

/// A fresh directory under the test's output directory.
fn tempdir(out: &Path, name: &str) -> PathBuf {
    let dir = out.join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

use futures::FutureExt as _;
