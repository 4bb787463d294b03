using Gwctl;

return await GwctlCli.InvokeAsync(args, Console.Out, Console.Error);
