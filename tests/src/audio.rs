//! Audio for upload tests: WAV generated here, MP3 from `tests/fixtures`.

use reqwest::multipart::{Form, Part};

/// A mono 16-bit PCM WAV: `millis` of a 440 Hz tone at 8 kHz.
pub fn wav(millis: u32) -> Vec<u8> {
    let samples = 8 * millis;
    let data_len = samples * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
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
    for i in 0..samples {
        let phase = f64::from(i) * 440.0 * std::f64::consts::TAU / 8000.0;
        let sample = (phase.sin() * 8000.0) as i16;
        out.extend_from_slice(&sample.to_le_bytes());
    }
    out
}

/// The committed 3-second MP3 tone.
pub fn mp3() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tone-3s.mp3");
    std::fs::read(path).expect("tests/fixtures/tone-3s.mp3")
}

/// The committed 3-second Ogg/Opus tone.
pub fn opus() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/tone-3s.opus");
    std::fs::read(path).expect("tests/fixtures/tone-3s.opus")
}

/// A form with one `file` part per `(file name, bytes)`.
pub fn files(files: Vec<(&str, Vec<u8>)>) -> Form {
    files.into_iter().fold(Form::new(), |form, (name, bytes)| {
        form.part("file", Part::bytes(bytes).file_name(name.to_owned()))
    })
}
