describe('harness self-test: hanging suite', () => {
  it('never settles', function () {
    this.timeout(0);
    return new Promise<void>(() => undefined);
  });
});
