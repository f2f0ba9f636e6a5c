//! Codecs: G.711 µ-law/A-law, G.722, resampling, packet-loss concealment (in progress).
