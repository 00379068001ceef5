// Package e2e holds the end-to-end tests of set-image-platform: they build
// the binary, start CNCF Distribution registries in process, put a
// recording proxy between the binary and each registry, and drive the binary
// exactly as the GitHub runner does (INPUT_* variables, GITHUB_OUTPUT,
// GITHUB_STEP_SUMMARY) or as a person does on the command line.
//
// Run with:
//
//	cd e2e && go test ./...
//
// A bare go test runs every test below but the ones that need more:
// TestContainer and TestDockerfileBuilders skip without a Docker engine
// (SET_IMAGE_PLATFORM_REQUIRE_DOCKER=1 makes that a failure);
// TestPlanAtScale runs with SET_IMAGE_PLATFORM_AT_SCALE=1 or -at-scale;
// the benchmarks run only as quick variants that assert request counts,
// and at full size with -bench-table (TestBenchmarkTable,
// TestBenchmarkDepth, TestDaemonSpeed) or -bench (BenchmarkSweep,
// BenchmarkIndex): see docs/benchmarks.md. .ci/run sets both variables.
// The containerd image store's tests run against a stand-in engine, and
// also against a real one when SET_IMAGE_PLATFORM_CONTAINERD_HOST names
// it, as .ci/run does with scripts/containerd-engine.sh (docs/daemon.md);
// TestContainerContainerdStore needs that real one and skips without it.
//
// # Where each behaviour is tested
//
// One row per behaviour: the file, then its tests, one a line. Files named
// helpers_*_test.go hold what the tests share: the registry
// (helpers_registry), the recording proxy (helpers_proxy), the runner's
// environment and the Result of a run (helpers_runner), image fixtures
// (helpers_fixtures, helpers_referrers), reading the registry back
// (helpers_state), layouts and archives on disk (helpers_layout), the
// token services (helpers_token, helpers_tokenauth), the Docker engine
// (helpers_docker), a stand-in engine with the containerd image store
// (helpers_containerd), byte-faithful JSON members (helpers_json), the
// expect* assertions (helpers_test.go).
// bench_*_test.go hold the benchmarks. TestDocTable fails when a test is
// missing here or its row names another file, so add a new test's row
// with the test.
//
//	behaviour                                         file                          tests
//	one image, same repository                        set_test.go                   TestSetSameRepository
//	                                                                                TestSetIdempotent
//	                                                                                TestSetBareTag
//	one image to another repository or registry       set_test.go                   TestSetOtherRepository
//	                                                                                TestSetOtherRegistry
//	an image already right, or of another platform    set_test.go                   TestSetAlreadyPlatform
//	                                                                                TestSetDifferentPlatformPresent
//	dry run, digest sources, the step summary         set_test.go                   TestDryRun
//	                                                                                TestDigestSource
//	                                                                                TestStepSummary
//	the forms of the platform input                   set_test.go                   TestSetPlatformForms
//	cosign signatures of the old digest               set_test.go                   TestCosignSignatureWarning
//	Windows images: foreign and restricted layers     set_test.go                   TestForeignLayers
//	platform values: equivalent, invalid, aliases     platform_test.go              TestEquivalentPlatformIsAlreadyThere
//	                                                                                TestInvalidPlatformFieldCheck
//	                                                                                TestInvalidPlatformFieldSet
//	                                                                                TestPlatformAliases
//	                                                                                TestPlatformSuggestionsKeepTheArchitecture
//	an index: each child from its entry               index_test.go                 TestSetIndex
//	                                                                                TestSetIndexOneImageChild
//	                                                                                TestSetIndexOneChildEntryPlatform
//	                                                                                TestSetIndexOtherRepository
//	                                                                                TestCLIIndex
//	an index refused                                  index_test.go                 TestSetIndexRefused
//	what crane mutate leaves, beside ours             crane_test.go                 TestAgainstCrane
//	                                                  index_test.go                 TestIndexAgainstCrane
//	platform auto: read from the layers' binaries     auto_test.go                  TestAutoSet
//	                                                                                TestAutoStopsEarly
//	                                                                                TestAutoIndex
//	                                                                                TestAutoIndexDisagreement
//	check mode: report without writing                check_test.go                 TestCheck
//	                                                                                TestCheckSeveral
//	                                                                                TestCheckCLI
//	                                                                                TestCheckMode
//	several images in one run                         multi_test.go                 TestSeveralImages
//	                                                                                TestTwoImagesOneTag
//	                                                                                TestSameSourceTwice
//	tag patterns: sweep, plan, shards, matrix         sweep_test.go                 TestSweepPlanThenShards
//	                                                                                TestSweepSharedDigest
//	                                                                                TestSweepCLIPlan
//	                                                                                TestPlanStdoutIsMatrix
//	                                                                                TestSweepBadInput
//	                                                                                TestTagListingBounds
//	a sweep in a 429 storm                            sweep_test.go                 TestSweepStorm
//	a plan over 20,000 tags (at scale only)           sweep_test.go                 TestPlanAtScale
//	referrers found and carried (the package)         referrers_test.go             TestFindReferrers
//	                                                                                TestFindReferrersKeepsTheRestWhenALookupFails
//	                                                                                TestCarryReferrers
//	referrers in a run                                referrers_run_test.go         TestRunNamesReferrers
//	                                                                                TestRunReferrersFailWritesNothing
//	                                                                                TestRunReferrersCarry
//	                                                                                TestRunReferrersLookupFailureWarns
//	                                                                                TestRunReferrersDryRun
//	                                                                                TestReferrersInputError
//	                                                                                TestRunReferrerTagsFromOneListing
//	                                                                                TestForeignReferrer
//	                                                                                TestReferrersCarryNotFindable
//	bad inputs: one error, no write                   inputs_test.go                TestBadInputs
//	Basic credentials, one password per registry      auth_test.go                  TestAuth
//	                                                                                TestCLIAuth
//	                                                                                TestPushDenied
//	                                                                                TestPasswordForOneRegistry
//	                                                                                TestPasswordGoesToTarget
//	bearer tokens: pull only, expiry, token services  tokens_test.go                TestPushWithPullOnlyToken
//	                                                                                TestTokenExpiresDuringPush
//	                                                                                TestTokenExpiresDuringStream
//	                                                                                TestPrivateTokenService
//	rate limits, budget, declined mounts, immutable   registries_test.go            TestRateLimitUsedUp
//	                                                                                TestRegistryBudget
//	                                                                                TestDeclinedMountCopied
//	                                                                                TestImmutableTags
//	plain HTTP: loopback only, or insecure            plainhttp_test.go             TestLoopbackPlainHTTP
//	                                                                                TestPlainHTTPRefusedForLoopbackLookalike
//	                                                                                TestPlainHTTPNeedsInsecure
//	secrets never shown                               secrets_test.go               TestSecretsNeverShown
//	                                                                                TestSecretsNeverShownCLI
//	                                                                                TestTokenScrubbed
//	hostile values issue no runner command            hostile_test.go               TestHostileValues
//	hostile registry text and file names              hostile_text_test.go          TestRegistryTextInSummaryAndOutputs
//	                                                                                TestRegistryErrorTerminalEscapes
//	                                                                                TestAutoEvidenceFileNames
//	messages in each door's words                     messages_test.go              TestMessagesSpeakTheDoorsLanguage
//	                                                                                TestMessagesPlainHTTP
//	                                                                                TestMessagesDryRunAndUnchanged
//	                                                                                TestMessagesRetryInGroup
//	                                                                                TestRegistryWordsShown
//	the tag read back after the write                 readback_test.go              TestReadBackWithoutDigestHeader
//	                                                                                TestReadBackFails
//	registry faults recovered or refused, retries     faults_test.go                TestFaultsRecovered
//	                                                                                TestFaultsRefused
//	                                                                                TestFaultManifestContentType
//	                                                                                TestFaultRedirectKeepsCredentials
//	                                                                                TestRetries
//	writes that fail or stall                         faults_test.go                TestFaultManifestPutAlwaysFails
//	                                                                                TestStalledManifestGet
//	                                                                                TestEverythingStalls
//	                                                                                TestIndexPutFailsAfterChildren
//	another writer on the same tag                    concurrency_test.go           TestConcurrentRunsOnOneTag
//	                                                                                TestTagMovedDuringRun
//	SIGTERM or SIGINT during a run                    interrupted_test.go           TestInterrupted
//	the results file unwritable or unusable           resultsfile_test.go           TestResultsFileUnwritable
//	                                                                                TestResultsFileUnusable
//	the CLI's --json and --demo                       cli_test.go                   TestCLIJSON
//	                                                                                TestCLIDemo
//	the action in a Docker engine, as the runner      container_test.go             TestContainer
//	the action on the containerd image store          container_test.go             TestContainerContainerdStore
//	the Dockerfile, BuildKit and classic builder      dockerfile_test.go            TestDockerfileBuilders
//	an image in the Docker engine (internal/daemon)   daemon_test.go                TestDaemonInspect
//	                                                                                TestDaemonSave
//	                                                                                TestDaemonLoad
//	                                                                                TestDaemonLoadLayerAbsent
//	                                                                                TestDaemonLoadUntagged
//	docker-daemon: check and plan, one inspect       daemon_run_test.go            TestDaemonCheckPlan
//	docker-daemon: bad lines, nothing loaded         daemon_run_test.go            TestDaemonBadInputs
//	docker-daemon: set in place, dry run, conflict   daemon_set_test.go            TestDaemonSet
//	docker-daemon: set in the containerd image store  daemon_containerd_test.go     TestDaemonContainerdSet
//	docker-daemon: auto, containerd image store      daemon_containerd_test.go     TestDaemonContainerdAuto
//	docker-daemon: push, containerd image store      daemon_containerd_push_test.go  TestDaemonContainerdPush
//	docker-daemon: which image store, from GET /info  daemon_containerd_test.go     TestDaemonStore
//	docker-daemon: platform auto, the save stream     daemon_auto_test.go           TestDaemonAuto
//	docker-daemon: push fixed to a registry tag       daemon_push_test.go           TestDaemonPush
//	what a PR built, a layout or .cnb: check, plan   layout_test.go               TestLayoutCheck
//	                                                                                TestLayoutCheckCLI
//	                                                                                TestLayoutPlan
//	a layout or .cnb set in place, dry run            layout_test.go                TestLayoutSetInPlace
//	platform auto on a .cnb's binaries                layout_test.go                TestLayoutAuto
//	a docker save tar: check, set in place            layout_test.go                TestDockerArchive
//	a bare tag names the fixed image in its .cnb      layout_test.go                TestLayoutBareTag
//	a tag pattern over a .cnb's names                layout_test.go                TestLayoutPattern
//	bad layout lines: one error, nothing written      layout_test.go                TestLayoutBadInputs
//	referrers in a layout: warn, fail                 layout_test.go                TestLayoutReferrers
//	referrers in a layout carried to the fixed image  layout_test.go                TestLayoutReferrersCarry
//	a .cnb or layout fixed and published with tag     layout_publish_test.go        TestLayoutPublish
//	                                                                                TestLayoutPublishCLI
//	                                                                                TestLayoutPublishWrongLayer
//	referrers of a .cnb published or saved elsewhere  layout_publish_test.go        TestLayoutPublishReferrers
//	a registry image or .cnb saved into a layout      layout_save_test.go           TestLayoutSave
//	                                                                                TestLayoutSaveCLI
//	                                                                                TestLayoutSaveRerun
//	                                                                                TestLayoutSaveFromLayout
//	check, plan, dry run with a layout tag: no write  layout_save_test.go           TestLayoutSaveReadOnly
//	an index.json entry's platform, set and checked   layout_save_test.go           TestLayoutEntryPlatform
//	                                                                                TestLayoutEntryPlatformNewName
//	bad layout tags: one error, nothing written       layout_save_test.go           TestLayoutSaveBadInputs
//	a layer missing its digest: nothing left          layout_save_test.go           TestLayoutSaveBlobMissesDigest
//	registry lines and layouts in one run             layout_save_test.go           TestLayoutWithRegistryImages
//	a registry tag pattern beside layouts             layout_save_test.go           TestLayoutWithRegistryPattern
//	action.yml loaded as the runner loads it          actionyml_test.go             TestActionYAMLLoadsAsTheRunnerDoes
//	                                                                                TestActionYAMLLoaderRefuses
//	workflows pin actions by commit                   actionyml_test.go             TestWorkflowsPinActionsByCommit
//	action.yml, README and the code agree             contract_test.go              TestContractActionYAML
//	                                                                                TestContractREADME
//	                                                                                TestContractInputsRead
//	                                                                                TestContractOutputsWritten
//	benchmark table, against crane and regctl         bench_table_test.go           TestBenchmarkTable
//	round trips deep of one image                     bench_depth_test.go           TestBenchmarkDepth
//	                                                                                TestCriticalPath
//	a sweep of 1,000 tags, against crane and regctl   bench_sweep_test.go           BenchmarkSweep
//	                                                                                TestSweepFixture
//	an index against a single image                   bench_index_test.go           BenchmarkIndex
//	the engine: inspect against docker save, load     bench_daemon_test.go          BenchmarkDaemon
//	                                                                                TestDaemonSpeed
//	the engine through the binary: auto, push         bench_daemon_binary_test.go   BenchmarkDaemonBinary
//	a 1 GiB .cnb checked, read bytes bounded          bench_layout_test.go          TestLayoutCheckReadsLittle
//	a .cnb set in place against cp; published         bench_layout_test.go          BenchmarkLayoutSet
//	                                                                                BenchmarkLayoutPublish
//	                                                                                TestLayoutPublishRequests
//	                                                                                TestLayoutPublishZeroCopy
//	the helpers: the runner's output file format      helpers_runner_test.go        TestParseOutputs
//	the helpers: JSON members in their order          helpers_json_test.go          TestMembers
//	the helpers: the GHCR-like token service          helpers_token_test.go         TestTokenService
//	the helpers: Distribution's token auth            helpers_tokenauth_test.go     TestTokenAuthority
//	pushfixture, CI's image without a platform        cmd/pushfixture/main_test.go  TestRun
//	                                                                                TestRunArgs
//	this table lists every test                       doc_test.go                   TestDocTable
package e2e
