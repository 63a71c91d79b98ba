//! Free text to speech with espeak-ng, for what cannot be recorded in
//! advance: question texts and names in a collision menu.
//!
//! espeak-ng is run as a program (its C library would tie the build to a
//! system package); the text goes in on stdin, never on the command line,
//! so no text can become an option. Each rendering is kept by content
//! hash (voice and text), in memory and, when a cache directory is
//! configured, on disk, so a question is synthesised once, not per call.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;
use touchtone_sip::Prompt;

/// Most renderings kept in memory; beyond it the memory cache is cleared
/// (the disk cache still has them).
const MEMORY_ENTRIES: usize = 2048;
/// Longest text synthesised; longer text is a configuration mistake.
const MAX_TEXT: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum TtsError {
    #[error("espeak-ng could not be started: {0}")]
    Start(std::io::Error),
    #[error("espeak-ng did not finish within {0:?}")]
    Timeout(Duration),
    #[error("espeak-ng failed: {0}")]
    Failed(String),
    #[error("the text is empty or longer than {MAX_TEXT} characters")]
    BadText,
    #[error("espeak-ng's audio: {0}")]
    Audio(String),
}

pub struct Tts {
    program: PathBuf,
    voice: String,
    cache_dir: Option<PathBuf>,
    timeout: Duration,
    running: Semaphore,
    memory: Mutex<HashMap<[u8; 32], Prompt>>,
}

impl Tts {
    /// espeak-ng from `PATH` speaking with `voice` (`en-us`, `de`), or
    /// `None` when it is not installed.
    pub fn detect(voice: &str, cache_dir: Option<PathBuf>) -> Option<Tts> {
        let program = find_program("espeak-ng")?;
        Some(Tts::new(program, voice, cache_dir))
    }

    pub fn new(program: PathBuf, voice: &str, cache_dir: Option<PathBuf>) -> Tts {
        Tts {
            program,
            voice: voice.to_owned(),
            cache_dir,
            timeout: Duration::from_secs(10),
            // Synthesis is CPU work; a burst of calls must not fork a
            // hundred synthesisers at once.
            running: Semaphore::new(2),
            memory: Mutex::new(HashMap::new()),
        }
    }

    pub fn voice(&self) -> &str {
        &self.voice
    }

    /// The text as 8 kHz audio, from a cache when it was spoken before.
    pub async fn speak(&self, text: &str) -> Result<Prompt, TtsError> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_TEXT {
            return Err(TtsError::BadText);
        }
        let key = self.key(text);
        if let Some(p) = self.lock_memory().get(&key) {
            return Ok(p.clone());
        }
        let disk = self
            .cache_dir
            .as_ref()
            .map(|d| d.join(format!("{}.ulaw", hex::encode(key))));
        if let Some(path) = &disk
            && let Ok(bytes) = tokio::fs::read(path).await
            && !bytes.is_empty()
        {
            let prompt = Prompt::from_ulaw(bytes);
            self.remember(key, &prompt);
            return Ok(prompt);
        }
        let prompt = self.synthesise(text).await?;
        if let Some(path) = &disk {
            // A failed cache write only costs a later re-synthesis.
            if let Err(e) = write_atomically(path, prompt.ulaw()) {
                tracing::warn!(error = %e, path = %path.display(), "cannot cache synthesised speech");
            }
        }
        self.remember(key, &prompt);
        Ok(prompt)
    }

    fn key(&self, text: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.voice.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        h.finalize().into()
    }

    fn lock_memory(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Prompt>> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remember(&self, key: [u8; 32], prompt: &Prompt) {
        let mut memory = self.lock_memory();
        if memory.len() >= MEMORY_ENTRIES {
            memory.clear();
        }
        memory.insert(key, prompt.clone());
    }

    async fn synthesise(&self, text: &str) -> Result<Prompt, TtsError> {
        let _permit = self
            .running
            .acquire()
            .await
            .map_err(|_| TtsError::BadText)?;
        let dir = tempfile::tempdir().map_err(TtsError::Start)?;
        let wav = dir.path().join("speech.wav");
        let mut child = tokio::process::Command::new(&self.program)
            .arg("-v")
            .arg(&self.voice)
            .args(["-s", "150", "--stdin", "-w"])
            .arg(&wav)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(TtsError::Start)?;
        let run = async {
            if let Some(mut stdin) = child.stdin.take() {
                stdin
                    .write_all(text.as_bytes())
                    .await
                    .map_err(|e| TtsError::Failed(e.to_string()))?;
            }
            child
                .wait_with_output()
                .await
                .map_err(|e| TtsError::Failed(e.to_string()))
        };
        let output = tokio::time::timeout(self.timeout, run)
            .await
            .map_err(|_| TtsError::Timeout(self.timeout))??;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(TtsError::Failed(format!(
                "{}: {}",
                output.status,
                stderr.trim()
            )));
        }
        let path = wav.clone();
        tokio::task::spawn_blocking(move || Prompt::load_wav(&path))
            .await
            .map_err(|e| TtsError::Audio(e.to_string()))?
            .map_err(|e| TtsError::Audio(e.to_string()))
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The first executable `name` on `PATH`.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}
