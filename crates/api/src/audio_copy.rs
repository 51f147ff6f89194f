//! `dialix audio copy --to URL`: copies the configured store's audio into another store, e.g.
//! from the local directory to a bucket before switching `DIALIX_AUDIO_STORE` over.

use dialix_infrastructure::{AudioLocation, CopyProgress, copy_audio};

use crate::config::Config;
use crate::startup::StartupError;

/// Copies every file of `DIALIX_AUDIO_STORE` that `target` lacks (a re-run copies only what
/// is still missing), reporting after each file.
pub async fn copy_audio_store(
    config: &Config,
    target: &AudioLocation,
    progress: impl FnMut(&CopyProgress),
) -> Result<CopyProgress, StartupError> {
    let from = config.audio_store.open()?;
    let to = target.open()?;
    Ok(copy_audio(from.as_ref(), to.as_ref(), progress).await?)
}
