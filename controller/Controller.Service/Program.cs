using Controller.Service.Cli;

// See Cli/ControllerCommandLine.cs: runs the controller service.
return await ControllerCommandLine.Build().Parse(args).InvokeAsync();
