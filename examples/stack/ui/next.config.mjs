// output: "standalone" makes .next/standalone: server.js and only the
// node_modules files the server needs, so the production image carries no
// npm and no dev dependencies.
//
// The app optimises no images, so sharp (Next's optional native image
// library, per CPU) is kept out of the trace: the standalone output is then
// plain JavaScript, built once on the build host for every target platform.
/** @type {import('next').NextConfig} */
const nextConfig = {
  output: "standalone",
  images: { unoptimized: true },
  outputFileTracingExcludes: {
    "*": ["node_modules/sharp/**", "node_modules/@img/**", "node_modules/detect-libc/**"],
  },
};

export default nextConfig;
