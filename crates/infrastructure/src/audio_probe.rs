use std::io::Cursor;

use async_trait::async_trait;
use bytes::Bytes;
use dialix_calls::{AudioFormat, AudioProbe, Undecodable};
use symphonia::core::codecs::CodecParameters;
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// Decodes the whole file with symphonia (on the blocking pool) and counts its frames: the
/// duration is what actually plays, and a file that does not decode is refused.
#[derive(Default)]
pub struct SymphoniaProbe;

#[async_trait]
impl AudioProbe for SymphoniaProbe {
    async fn probe(
        &self,
        bytes: Bytes,
        file_name: String,
    ) -> Result<(u64, AudioFormat), Undecodable> {
        tokio::task::spawn_blocking(move || measure(bytes, &file_name))
            .await
            .map_err(|e| Undecodable(format!("the decoder crashed: {e}")))?
    }
}

fn measure(bytes: Bytes, file_name: &str) -> Result<(u64, AudioFormat), Undecodable> {
    // symphonia has no Opus decoder; Ogg/Opus is measured from its pages instead.
    if let Some(measured) = ogg_opus_duration(&bytes) {
        return measured.map(|ms| (ms, AudioFormat::Ogg));
    }
    let mut hint = Hint::new();
    if let Some((_, extension)) = file_name.rsplit_once('.') {
        hint.with_extension(&extension.to_ascii_lowercase());
    }
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut reader = symphonia::default::get_probe()
        .probe(
            &hint,
            source,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| Undecodable(format!("unrecognised format ({e})")))?;
    let short_name = reader.format_info().short_name;
    let format = container(short_name)
        .ok_or_else(|| Undecodable(format!("unsupported container {short_name:?}")))?;
    let track = reader
        .default_track(TrackType::Audio)
        .ok_or_else(|| Undecodable("no audio track".into()))?;
    let track_id = track.id;
    let Some(CodecParameters::Audio(params)) = track.codec_params.clone() else {
        return Err(Undecodable("unknown audio codec".into()));
    };
    let sample_rate = params
        .sample_rate
        .filter(|rate| *rate > 0)
        .ok_or_else(|| Undecodable("no sample rate".into()))?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| Undecodable(format!("unsupported codec ({e})")))?;

    let mut frames: u64 = 0;
    let mut bad_packets = 0u32;
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(symphonia::core::errors::Error::IoError(_)) if frames > 0 => break,
            Err(e) => return Err(Undecodable(format!("unreadable stream ({e})"))),
        };
        if packet.track_id != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(decoded) => frames += decoded.frames() as u64,
            // A few corrupt packets are tolerated, as players do; a file of them is not.
            Err(symphonia::core::errors::Error::DecodeError(_)) => {
                bad_packets += 1;
                if bad_packets > 16 && frames == 0 {
                    return Err(Undecodable("no packet decodes".into()));
                }
            }
            Err(e) => return Err(Undecodable(format!("decoding failed ({e})"))),
        }
    }
    Ok((frames * 1000 / u64::from(sample_rate), format))
}

/// The playable length of an Ogg/Opus stream: the last page's granule position (48 kHz
/// samples) less the pre-skip from the `OpusHead` header. `None` when the bytes are not
/// Ogg/Opus; an error when they are but the pages do not hold together.
fn ogg_opus_duration(bytes: &[u8]) -> Option<Result<u64, Undecodable>> {
    const HEADER: usize = 27;
    let page = |at: usize| -> Option<(u64, usize, usize)> {
        let header = bytes.get(at..at + HEADER)?;
        if &header[..4] != b"OggS" {
            return None;
        }
        let granule = u64::from_le_bytes(header[6..14].try_into().ok()?);
        let segments = usize::from(header[26]);
        let table = bytes.get(at + HEADER..at + HEADER + segments)?;
        let body = table.iter().map(|l| usize::from(*l)).sum::<usize>();
        Some((granule, at + HEADER + segments, body))
    };
    let (_, body_start, _) = page(0)?;
    let head = bytes.get(body_start..body_start + 19)?;
    if &head[..8] != b"OpusHead" {
        return None;
    }
    let pre_skip = u64::from(u16::from_le_bytes([head[10], head[11]]));
    let mut at = 0;
    let mut last_granule = 0;
    let mut pages = 0;
    while at < bytes.len() {
        let Some((granule, body_start, body_len)) =
            page(at).filter(|(_, start, len)| start + len <= bytes.len())
        else {
            return Some(Err(Undecodable("a broken or truncated Ogg page".into())));
        };
        if granule != u64::MAX {
            last_granule = granule;
        }
        pages += 1;
        at = body_start + body_len;
    }
    if pages < 3 || last_granule <= pre_skip {
        return Some(Err(Undecodable("an Opus stream without audio".into())));
    }
    Some(Ok((last_granule - pre_skip) / 48))
}

/// The container symphonia recognised, by its short name.
fn container(short_name: &str) -> Option<AudioFormat> {
    Some(match short_name {
        "wave" | "wav" => AudioFormat::Wav,
        "mp3" | "mpa" => AudioFormat::Mp3,
        "ogg" => AudioFormat::Ogg,
        "flac" => AudioFormat::Flac,
        "isomp4" => AudioFormat::Mp4,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mono 16-bit PCM WAV of `millis` of silence at 8 kHz.
    fn wav(millis: u32) -> Vec<u8> {
        let samples = 8 * millis;
        let data_len = samples * 2;
        let mut out = Vec::new();
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&8000u32.to_le_bytes());
        out.extend_from_slice(&16000u32.to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        out.resize(out.len() + data_len as usize, 0);
        out
    }

    #[tokio::test]
    async fn a_wav_file_is_measured_by_decoding_it() {
        let (millis, content_type) = SymphoniaProbe
            .probe(wav(2500).into(), "call.wav".into())
            .await
            .unwrap();
        assert_eq!((millis, content_type), (2500, AudioFormat::Wav));
    }

    #[tokio::test]
    async fn ogg_opus_is_measured_from_its_pages() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/tone-3s.opus"
        );
        let bytes = std::fs::read(path).unwrap();
        let (millis, content_type) = SymphoniaProbe
            .probe(bytes.clone().into(), "call.opus".into())
            .await
            .unwrap();
        assert_eq!((millis, content_type), (3000, AudioFormat::Ogg));
        let truncated = bytes[..bytes.len() - 100].to_vec();
        assert!(
            SymphoniaProbe
                .probe(truncated.into(), "call.opus".into())
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn garbage_is_undecodable() {
        let result = SymphoniaProbe
            .probe(
                Bytes::from_static(b"definitely not audio"),
                "call.mp3".into(),
            )
            .await;
        assert!(result.is_err());
    }
}
