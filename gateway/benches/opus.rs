//! Opus implementations side by side: encode and decode of one 20 ms mono frame, at the
//! gateway's transcoding setting (8 kHz PCM, complexity 5) and at 48 kHz (complexity 5, 10).
use criterion::{Criterion, criterion_group, criterion_main};
use rvoip_core::codec::ToneGenerator;
use rvoip_gateway::opus::{OpusImpl, OpusSettings, decoder, encoder};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    for (rate, complexity) in [(8000u32, 5u8), (48000, 5), (48000, 10)] {
        let frame = rate as usize / 50;
        // Two seconds of a two-tone signal, so the encoder sees changing input.
        let mut pcm = vec![0i16; rate as usize * 2];
        ToneGenerator::dual(rate, 440.0, 1250.0, 6000.0).fill(&mut pcm);
        for imp in OpusImpl::ALL {
            let s = OpusSettings {
                sample_rate: rate,
                bitrate: 24_000,
                complexity,
                inband_fec: true,
            };
            let mut enc = encoder(imp, s).unwrap();
            let mut out = [0u8; 1500];
            let mut i = 0;
            c.bench_function(
                &format!("opus encode 20ms {rate}Hz c{complexity} {}", imp.name()),
                |b| {
                    b.iter(|| {
                        let f = &pcm[i * frame..(i + 1) * frame];
                        i = (i + 1) % 100;
                        black_box(enc.encode(black_box(f), &mut out).unwrap())
                    })
                },
            );
            // Packets to decode, made once.
            let mut enc = encoder(imp, s).unwrap();
            let packets: Vec<Vec<u8>> = pcm
                .chunks_exact(frame)
                .map(|f| {
                    let n = enc.encode(f, &mut out).unwrap();
                    out[..n].to_vec()
                })
                .collect();
            let mut dec = decoder(imp, rate).unwrap();
            let mut pcm_out = vec![0i16; frame];
            let mut j = 0;
            c.bench_function(
                &format!("opus decode 20ms {rate}Hz c{complexity} {}", imp.name()),
                |b| {
                    b.iter(|| {
                        let p = &packets[j];
                        j = (j + 1) % packets.len();
                        black_box(dec.decode(Some(black_box(p)), &mut pcm_out).unwrap())
                    })
                },
            );
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
