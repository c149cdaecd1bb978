/**
 * Which Node.js this project runs on. The Lambdas run on Node.js 22 (the stack's runtime). The
 * local runtime, its tools and the tests run on Node.js 20.19+ or 22.13+ (package.json `engines`;
 * ESLint sets that floor). The pinned AWS SDK supports Node.js 20, but prints a nine-line
 * warning in every process that SDK releases after January 2027 will need Node.js 22. That is a
 * note for whoever upgrades the pinned SDK, who must then raise `engines` to Node.js 22 as well
 * (docs/architecture.md, "Toolchain notes"); it is not news on every command, so the local entry
 * points import this module first and silence it.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
