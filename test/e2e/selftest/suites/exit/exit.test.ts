describe('harness self-test: a test that ends the extension host', () => {
  it('calls process.exit(0) before mocha finishes', () => {
    process.exit(0);
  });
});
