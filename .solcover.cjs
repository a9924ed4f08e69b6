// Test-only contracts are not part of the product, so they do not count towards coverage.
module.exports = {
  skipFiles: ['test/'],
  istanbulReporter: ['text', 'json-summary', 'lcov']
}
