from sensorlab.cli import main

main()
