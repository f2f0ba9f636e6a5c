//! Audio endpoints behind two small traits: [`AudioSource`] (microphone side) and
//! [`AudioSink`] (speaker side), each exchanging 20 ms frames of mono PCM at the codec's
//! PCM rate. Implementations: sound cards through cpal ([`AudioSpec::Device`]), WAV files
//! through hound ([`AudioSpec::Wav`], resampled from/to the codec rate with the core's
//! [`Resampler`]), and a null device ([`AudioSpec::Null`]: silence in, nothing out) for
//! machines without a sound card.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use rvoip_core::codec::{Resampler, SampleRate};

use super::Error;

/// Where audio comes from or goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioSpec {
    /// Silence in, discard out.
    Null,
    /// A WAV file (read: 16-bit PCM at 8, 16 or 48 kHz, any channel count, the first
    /// channel used; written: mono 16-bit at the codec's PCM rate).
    Wav(PathBuf),
    /// A sound card: the default one, or the first whose name or id contains the text.
    Device(Option<String>),
}

impl AudioSpec {
    /// `null`, a path ending in `.wav`, or the default device.
    pub fn from_arg(arg: Option<&str>, device: Option<&str>) -> AudioSpec {
        match arg {
            Some("null") => AudioSpec::Null,
            Some(path) => AudioSpec::Wav(PathBuf::from(path)),
            None => AudioSpec::Device(device.map(str::to_owned)),
        }
    }
}

/// The microphone side: fills one frame of PCM per call.
pub trait AudioSource {
    /// Fills `out` (one frame at the rate the source was opened with); silence when no
    /// audio is available.
    fn read_frame(&mut self, out: &mut [i16]);
}

/// The speaker side: takes one frame of PCM per call.
pub trait AudioSink {
    /// Plays or stores one frame.
    fn write_frame(&mut self, pcm: &[i16]);
    /// Flushes and closes (a WAV file gets its final header).
    fn finish(&mut self) -> Result<(), Error>;
}

fn rate_of(hz: u32) -> Result<SampleRate, Error> {
    SampleRate::from_hz(hz).ok_or_else(|| {
        Error::Audio(format!(
            "unsupported sample rate {hz} (8000, 16000 or 48000)"
        ))
    })
}

/// Converts a whole buffer from `from` Hz to `to` Hz.
pub fn resample_all(input: &[i16], from: u32, to: u32) -> Result<Vec<i16>, Error> {
    if from == to {
        return Ok(input.to_vec());
    }
    let mut r = Resampler::new(rate_of(from)?, rate_of(to)?);
    let mut out = vec![0; r.max_output_len(input.len())];
    let n = r
        .process(input, &mut out)
        .map_err(|e| Error::Audio(e.to_string()))?;
    out.truncate(n);
    Ok(out)
}

/// Opens a source delivering PCM at `rate` Hz.
pub fn open_source(spec: &AudioSpec, rate: u32) -> Result<Box<dyn AudioSource>, Error> {
    Ok(match spec {
        AudioSpec::Null => Box::new(NullAudio),
        AudioSpec::Wav(path) => Box::new(WavSource::open(path, rate)?),
        AudioSpec::Device(name) => Box::new(DeviceSource::open(name.as_deref(), rate)?),
    })
}

/// Opens a sink taking PCM at `rate` Hz.
pub fn open_sink(spec: &AudioSpec, rate: u32) -> Result<Box<dyn AudioSink>, Error> {
    Ok(match spec {
        AudioSpec::Null => Box::new(NullAudio),
        AudioSpec::Wav(path) => Box::new(WavSink::create(path, rate)?),
        AudioSpec::Device(name) => Box::new(DeviceSink::open(name.as_deref(), rate)?),
    })
}

/// The null device.
#[derive(Debug, Default)]
pub struct NullAudio;

impl AudioSource for NullAudio {
    fn read_frame(&mut self, out: &mut [i16]) {
        out.fill(0);
    }
}

impl AudioSink for NullAudio {
    fn write_frame(&mut self, _pcm: &[i16]) {}
    fn finish(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// A WAV file read whole at its own rate, resampled to the codec rate frame by frame (so
/// that opening it costs no more than reading it), played once, then silence.
#[derive(Debug)]
pub struct WavSource {
    samples: Vec<i16>,
    pos: usize,
    resampler: Option<Resampler>,
    /// Resampled samples not yet read.
    pending: VecDeque<i16>,
    scratch: Vec<i16>,
}

impl WavSource {
    /// Reads `path` (mono, or the first channel) for PCM at `rate` Hz.
    pub fn open(path: &std::path::Path, rate: u32) -> Result<Self, Error> {
        let mut r = hound::WavReader::open(path)
            .map_err(|e| Error::Audio(format!("{}: {e}", path.display())))?;
        let spec = r.spec();
        if spec.sample_format != hound::SampleFormat::Int || spec.bits_per_sample != 16 {
            return Err(Error::Audio(format!(
                "{}: only 16-bit PCM WAV files are read",
                path.display()
            )));
        }
        let channels = usize::from(spec.channels.max(1));
        let mut samples = Vec::with_capacity(r.len() as usize / channels);
        for (i, s) in r.samples::<i16>().enumerate() {
            let s = s.map_err(|e| Error::Audio(format!("{}: {e}", path.display())))?;
            if i % channels == 0 {
                samples.push(s);
            }
        }
        let resampler = (spec.sample_rate != rate)
            .then(|| Ok::<_, Error>(Resampler::new(rate_of(spec.sample_rate)?, rate_of(rate)?)))
            .transpose()?;
        Ok(WavSource {
            samples,
            pos: 0,
            resampler,
            pending: VecDeque::new(),
            scratch: Vec::new(),
        })
    }
}

impl AudioSource for WavSource {
    fn read_frame(&mut self, out: &mut [i16]) {
        out.fill(0);
        match &mut self.resampler {
            None => {
                let rest = self.samples.get(self.pos..).unwrap_or(&[]);
                let n = rest.len().min(out.len());
                out[..n].copy_from_slice(&rest[..n]);
                self.pos += n;
                return;
            }
            Some(r) => {
                // Bounded: each pass consumes input until the file ends.
                while self.pending.len() < out.len() && self.pos < self.samples.len() {
                    let end = (self.pos + 480).min(self.samples.len());
                    let chunk = &self.samples[self.pos..end];
                    self.scratch.resize(r.max_output_len(chunk.len()), 0);
                    match r.process(chunk, &mut self.scratch) {
                        Ok(n) => self.pending.extend(&self.scratch[..n]),
                        Err(_) => self.pos = self.samples.len(),
                    }
                    self.pos = end.max(self.pos);
                }
            }
        }
        for o in out.iter_mut() {
            match self.pending.pop_front() {
                Some(s) => *o = s,
                None => break,
            }
        }
    }
}

/// A mono 16-bit WAV file written at the codec rate.
pub struct WavSink {
    writer: Option<hound::WavWriter<std::io::BufWriter<std::fs::File>>>,
}

impl std::fmt::Debug for WavSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavSink").finish_non_exhaustive()
    }
}

impl WavSink {
    /// Creates `path` for PCM at `rate` Hz.
    pub fn create(path: &std::path::Path, rate: u32) -> Result<Self, Error> {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let w = hound::WavWriter::create(path, spec)
            .map_err(|e| Error::Audio(format!("{}: {e}", path.display())))?;
        Ok(WavSink { writer: Some(w) })
    }
}

impl AudioSink for WavSink {
    fn write_frame(&mut self, pcm: &[i16]) {
        if let Some(w) = &mut self.writer {
            for s in pcm {
                if w.write_sample(*s).is_err() {
                    self.writer = None;
                    return;
                }
            }
        }
    }

    fn finish(&mut self) -> Result<(), Error> {
        match self.writer.take() {
            Some(w) => w.finalize().map_err(|e| Error::Audio(e.to_string())),
            None => Ok(()),
        }
    }
}

/// Most device-rate audio kept between the device thread and the call (≈ 200 ms at 48 kHz).
const MAX_QUEUED: usize = 9600;

type Queue = Arc<Mutex<VecDeque<i16>>>;

fn find_device(input: bool, name: Option<&str>) -> Result<cpal::Device, Error> {
    let host = cpal::default_host();
    let dev = match name {
        None if input => host.default_input_device(),
        None => host.default_output_device(),
        Some(n) => host.devices().ok().and_then(|mut ds| {
            ds.find(|d| {
                let id = d.id().map(|i| i.to_string()).unwrap_or_default();
                let desc = d
                    .description()
                    .map(|x| x.name().to_owned())
                    .unwrap_or_default();
                (id.contains(n) || desc.contains(n))
                    && if input {
                        d.supports_input()
                    } else {
                        d.supports_output()
                    }
            })
        }),
    };
    dev.ok_or_else(|| {
        Error::Audio(format!(
            "no {} device{} (use --{} null or a WAV file without a sound card)",
            if input { "input" } else { "output" },
            name.map(|n| format!(" matching {n:?}")).unwrap_or_default(),
            if input { "input" } else { "output" },
        ))
    })
}

/// The stream configuration: 48 kHz when the device has it, else its default rate.
fn device_config(dev: &cpal::Device, input: bool) -> Result<cpal::SupportedStreamConfig, Error> {
    let err = |e: cpal::Error| Error::Audio(format!("audio device: {e}"));
    let configs: Vec<cpal::SupportedStreamConfigRange> = if input {
        dev.supported_input_configs().map_err(err)?.collect()
    } else {
        dev.supported_output_configs().map_err(err)?.collect()
    };
    let good =
        |f: cpal::SampleFormat| matches!(f, cpal::SampleFormat::I16 | cpal::SampleFormat::F32);
    for c in &configs {
        if good(c.sample_format()) && c.min_sample_rate() <= 48_000 && c.max_sample_rate() >= 48_000
        {
            return Ok(c.with_sample_rate(48_000));
        }
    }
    let d = if input {
        dev.default_input_config()
    } else {
        dev.default_output_config()
    }
    .map_err(err)?;
    if !good(d.sample_format()) || SampleRate::from_hz(d.sample_rate()).is_none() {
        return Err(Error::Audio(format!("unsupported device format {d:?}")));
    }
    Ok(d)
}

/// Microphone input through cpal.
pub struct DeviceSource {
    _stream: cpal::Stream,
    queue: Queue,
    resampler: Option<Resampler>,
    scratch: Vec<i16>,
    pending: VecDeque<i16>,
}

impl DeviceSource {
    /// Opens the device `name` (default: the default input) for PCM at `rate` Hz.
    pub fn open(name: Option<&str>, rate: u32) -> Result<Self, Error> {
        let dev = find_device(true, name)?;
        let cfg = device_config(&dev, true)?;
        let channels = usize::from(cfg.channels().max(1));
        let device_rate = cfg.sample_rate();
        let queue: Queue = Arc::default();
        let q = queue.clone();
        let push = move |mono: &mut dyn Iterator<Item = i16>| {
            if let Ok(mut q) = q.lock() {
                q.extend(mono);
                while q.len() > MAX_QUEUED {
                    q.pop_front();
                }
            }
        };
        let err = |e: cpal::Error| tracing::warn!("audio input: {e}");
        let stream = match cfg.sample_format() {
            cpal::SampleFormat::F32 => {
                let push = push.clone();
                dev.build_input_stream::<f32, _, _>(
                    cfg.config(),
                    move |d: &[f32], _: &_| {
                        push(&mut d.iter().step_by(channels).map(|s| (s * 32767.0) as i16))
                    },
                    err,
                    None,
                )
            }
            _ => dev.build_input_stream::<i16, _, _>(
                cfg.config(),
                move |d: &[i16], _: &_| push(&mut d.iter().step_by(channels).copied()),
                err,
                None,
            ),
        }
        .map_err(|e| Error::Audio(format!("audio input: {e}")))?;
        stream
            .play()
            .map_err(|e| Error::Audio(format!("audio input: {e}")))?;
        let resampler = (device_rate != rate)
            .then(|| Ok::<_, Error>(Resampler::new(rate_of(device_rate)?, rate_of(rate)?)))
            .transpose()?;
        Ok(DeviceSource {
            _stream: stream,
            queue,
            resampler,
            scratch: Vec::new(),
            pending: VecDeque::new(),
        })
    }
}

impl AudioSource for DeviceSource {
    fn read_frame(&mut self, out: &mut [i16]) {
        let want = out.len();
        if self.pending.len() < want {
            let input: Vec<i16> = match self.queue.lock() {
                Ok(mut q) => q.drain(..).collect(),
                Err(_) => Vec::new(),
            };
            match &mut self.resampler {
                Some(r) => {
                    self.scratch.resize(r.max_output_len(input.len()), 0);
                    if let Ok(n) = r.process(&input, &mut self.scratch) {
                        self.pending.extend(&self.scratch[..n]);
                    }
                }
                None => self.pending.extend(input),
            }
        }
        out.fill(0);
        // Late device audio beyond 3 frames is dropped to keep the delay bounded.
        while self.pending.len() > 3 * want + want / 2 {
            self.pending.pop_front();
        }
        for o in out.iter_mut() {
            match self.pending.pop_front() {
                Some(s) => *o = s,
                None => break,
            }
        }
    }
}

/// Speaker output through cpal.
pub struct DeviceSink {
    _stream: cpal::Stream,
    queue: Queue,
    resampler: Option<Resampler>,
    scratch: Vec<i16>,
}

impl DeviceSink {
    /// Opens the device `name` (default: the default output) for PCM at `rate` Hz.
    pub fn open(name: Option<&str>, rate: u32) -> Result<Self, Error> {
        let dev = find_device(false, name)?;
        let cfg = device_config(&dev, false)?;
        let channels = usize::from(cfg.channels().max(1));
        let device_rate = cfg.sample_rate();
        let queue: Queue = Arc::default();
        let q = queue.clone();
        let err = |e: cpal::Error| tracing::warn!("audio output: {e}");
        let stream = match cfg.sample_format() {
            cpal::SampleFormat::F32 => dev.build_output_stream::<f32, _, _>(
                cfg.config(),
                move |d: &mut [f32], _: &_| {
                    let mut q = q.lock().ok();
                    for frame in d.chunks_mut(channels) {
                        let s = q.as_mut().and_then(|q| q.pop_front()).unwrap_or(0);
                        frame.fill(f32::from(s) / 32768.0);
                    }
                },
                err,
                None,
            ),
            _ => dev.build_output_stream::<i16, _, _>(
                cfg.config(),
                move |d: &mut [i16], _: &_| {
                    let mut q = q.lock().ok();
                    for frame in d.chunks_mut(channels) {
                        let s = q.as_mut().and_then(|q| q.pop_front()).unwrap_or(0);
                        frame.fill(s);
                    }
                },
                err,
                None,
            ),
        }
        .map_err(|e| Error::Audio(format!("audio output: {e}")))?;
        stream
            .play()
            .map_err(|e| Error::Audio(format!("audio output: {e}")))?;
        let resampler = (device_rate != rate)
            .then(|| Ok::<_, Error>(Resampler::new(rate_of(rate)?, rate_of(device_rate)?)))
            .transpose()?;
        Ok(DeviceSink {
            _stream: stream,
            queue,
            resampler,
            scratch: Vec::new(),
        })
    }
}

impl AudioSink for DeviceSink {
    fn write_frame(&mut self, pcm: &[i16]) {
        let out: &[i16] = match &mut self.resampler {
            Some(r) => {
                self.scratch.resize(r.max_output_len(pcm.len()), 0);
                match r.process(pcm, &mut self.scratch) {
                    Ok(n) => &self.scratch[..n],
                    Err(_) => return,
                }
            }
            None => pcm,
        };
        if let Ok(mut q) = self.queue.lock() {
            q.extend(out);
            while q.len() > MAX_QUEUED {
                q.pop_front();
            }
        }
    }

    fn finish(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// The sound devices of the default host, one line each (`softphone devices`).
pub fn list_devices() -> Result<Vec<String>, Error> {
    let host = cpal::default_host();
    let default_in = host
        .default_input_device()
        .and_then(|d| d.id().ok())
        .map(|i| i.to_string());
    let default_out = host
        .default_output_device()
        .and_then(|d| d.id().ok())
        .map(|i| i.to_string());
    let devices = host
        .devices()
        .map_err(|e| Error::Audio(format!("listing devices: {e}")))?;
    let mut lines = Vec::new();
    for d in devices {
        let id = d.id().map(|i| i.to_string()).unwrap_or_default();
        let name = d
            .description()
            .map(|x| x.name().to_owned())
            .unwrap_or_default();
        let mut tags = Vec::new();
        if d.supports_input() {
            tags.push("input");
        }
        if d.supports_output() {
            tags.push("output");
        }
        if default_in.as_deref() == Some(id.as_str()) {
            tags.push("default input");
        }
        if default_out.as_deref() == Some(id.as_str()) {
            tags.push("default output");
        }
        lines.push(format!("{id}\t{name}\t[{}]", tags.join(", ")));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvoip_core::codec::{ToneGenerator, tone_power};

    #[test]
    fn wav_round_trip_with_resampling() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&input, spec).unwrap();
        let mut g = ToneGenerator::new(48_000, 1000.0, 8000.0);
        let mut buf = [0i16; 480];
        for _ in 0..100 {
            g.fill(&mut buf);
            for s in buf {
                w.write_sample(s).unwrap();
                w.write_sample(0i16).unwrap();
            }
        }
        w.finalize().unwrap();

        let mut src = open_source(&AudioSpec::Wav(input), 8000).unwrap();
        let out = dir.path().join("out.wav");
        let mut sink = open_sink(&AudioSpec::Wav(out.clone()), 8000).unwrap();
        let mut frame = [0i16; 160];
        for _ in 0..60 {
            src.read_frame(&mut frame);
            sink.write_frame(&frame);
        }
        sink.finish().unwrap();
        let r = hound::WavReader::open(&out).unwrap();
        assert_eq!(r.spec().sample_rate, 8000);
        assert_eq!(r.spec().channels, 1);
        let s: Vec<i16> = r.into_samples().map(Result::unwrap).collect();
        assert_eq!(s.len(), 60 * 160);
        // 1 s of input, then silence.
        assert!(tone_power(&s[800..7200], 1000.0, 8000) > 0.95);
        assert!(s[8100..].iter().all(|x| *x == 0));
    }

    #[test]
    fn null_is_silent_and_unsupported_rates_fail() {
        let mut n = open_source(&AudioSpec::Null, 8000).unwrap();
        let mut f = [1i16; 160];
        n.read_frame(&mut f);
        assert!(f.iter().all(|x| *x == 0));
        assert!(resample_all(&[0; 10], 44_100, 8000).is_err());
    }
}
