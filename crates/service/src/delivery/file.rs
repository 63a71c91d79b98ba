//! File sink: appends each event as one JSON line and syncs it to disk,
//! for a tester to `tail -f` or a log shipper to pick up.

use std::path::PathBuf;

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::Sink;

pub struct FileSink {
    path: PathBuf,
    /// One writer at a time, so lines never interleave.
    lock: Mutex<()>,
}

impl FileSink {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            lock: Mutex::new(()),
        }
    }
}

#[async_trait]
impl Sink for FileSink {
    async fn deliver(
        &self,
        _event_id: &str,
        _event_type: &str,
        payload: &str,
    ) -> Result<(), String> {
        let _guard = self.lock.lock().await;
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await
            .map_err(|e| format!("opening {}: {e}", self.path.display()))?;
        let mut line = payload.to_owned();
        line.push('\n');
        file.write_all(line.as_bytes())
            .await
            .map_err(|e| format!("writing {}: {e}", self.path.display()))?;
        file.sync_data()
            .await
            .map_err(|e| format!("syncing {}: {e}", self.path.display()))
    }
}
