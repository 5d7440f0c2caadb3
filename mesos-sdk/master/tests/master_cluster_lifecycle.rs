//! What a `LocalCluster` leaves behind on the machine when it stops.

use mesos_master::LocalCluster;

#[tokio::test]
async fn shutdown_removes_the_work_directory_the_cluster_created() {
    let cluster = LocalCluster::builder().start().await.unwrap();
    let dir = cluster.work_dir().to_path_buf();
    assert!(dir.is_dir(), "the cluster made {}", dir.display());
    cluster.shutdown().await;
    assert!(!dir.exists(), "{} is still there", dir.display());
}

#[tokio::test]
async fn shutdown_keeps_a_work_directory_the_user_gave() {
    let parent = std::env::temp_dir().join(format!("mesos-sdk-test-{}", uuid_like()));
    let cluster = LocalCluster::builder()
        .work_dir(&parent)
        .start()
        .await
        .unwrap();
    cluster.shutdown().await;
    assert!(parent.is_dir(), "a user's directory is not ours to delete");
    std::fs::remove_dir_all(&parent).unwrap();
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    )
}
