using MetaService.Api.Cli;

// See Cli/MetaServiceCommandLine.cs: no command runs the service; export-definitions / import-definitions
// move RabbitMQ definitions files.
return await MetaServiceCommandLine.Build().Parse(args).InvokeAsync();
